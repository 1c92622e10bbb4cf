//! The text layer every describer shares: kubectl's `PrefixWriter` (two spaces per level)
//! over a clone of Go's `text/tabwriter` with describe's settings (min width 0, padding 2,
//! space padding), so tab-separated `Key:\tvalue` lines align as kubectl's do.

/// Describe's tabwriter: `tabwriter.Init(out, 0, 8, 2, ' ', 0)`.
const MIN_WIDTH: usize = 0;
const PADDING: usize = 2;

/// Collects describe output; `finish` aligns it.
#[derive(Default)]
pub struct Writer {
    done: String,
    pending: String,
}

impl Writer {
    /// `Write(level, text)`: the text after `level` indentation steps of two spaces.
    pub fn write(&mut self, level: usize, text: &str) {
        for _ in 0..level {
            self.pending.push_str("  ");
        }
        self.pending.push_str(text);
    }

    /// `WriteLine(text)`: the text and a line break, no indentation.
    pub fn line(&mut self, text: &str) {
        self.pending.push_str(text);
        self.pending.push('\n');
    }

    /// Ends the current column blocks (kubectl flushes before the Events table).
    pub fn flush(&mut self) {
        let text = std::mem::take(&mut self.pending);
        self.done.push_str(&go_tabwrite(&text, MIN_WIDTH, PADDING));
    }

    pub fn finish(mut self) -> String {
        self.flush();
        self.done
    }
}

/// `w!(w, level, "fmt", args...)`: formatted `Writer::write`.
macro_rules! w {
    ($w:expr, $level:expr, $($arg:tt)*) => {
        $w.write($level, &format!($($arg)*))
    };
}
pub(crate) use w;

/// Go's `text/tabwriter` (flags 0): cells are tab-terminated, the text after a line's last
/// tab is not a cell; a column's width is that of its widest cell plus padding within a
/// block of consecutive lines having that column; a line without tabs flushes everything.
pub fn go_tabwrite(text: &str, min_width: usize, padding: usize) -> String {
    let mut out = String::new();
    let mut lines: Vec<Vec<&str>> = Vec::new();
    let ends_with_newline = text.ends_with('\n');
    let body = text.strip_suffix('\n').unwrap_or(text);
    if text.is_empty() {
        return out;
    }
    let all: Vec<&str> = body.split('\n').collect();
    let count = all.len();
    for (i, line) in all.into_iter().enumerate() {
        let cells: Vec<&str> = line.split('\t').collect();
        let single = cells.len() == 1;
        lines.push(cells);
        let last = i + 1 == count;
        if single || last {
            let mut widths = Vec::new();
            format_block(
                &lines,
                &mut widths,
                0,
                lines.len(),
                min_width,
                padding,
                &mut out,
            );
            lines.clear();
        }
    }
    if !ends_with_newline {
        out.pop();
    }
    out
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn format_block(
    lines: &[Vec<&str>],
    widths: &mut Vec<usize>,
    line0: usize,
    line1: usize,
    min_width: usize,
    padding: usize,
    out: &mut String,
) {
    let column = widths.len();
    let mut start = line0;
    let mut this = line0;
    while this < line1 {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        write_lines(lines, widths, start, this, out);
        start = this;
        let mut w = min_width;
        while this < line1 && column + 1 < lines[this].len() {
            w = w.max(width(lines[this][column]) + padding);
            this += 1;
        }
        widths.push(w);
        format_block(lines, widths, start, this, min_width, padding, out);
        widths.pop();
        start = this;
    }
    write_lines(lines, widths, start, line1, out);
}

fn write_lines(lines: &[Vec<&str>], widths: &[usize], from: usize, to: usize, out: &mut String) {
    for line in &lines[from..to] {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if j < widths.len() && j + 1 < line.len() {
                let pad = widths[j].saturating_sub(width(cell));
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_lines_align_on_the_widest_key_plus_two() {
        let mut w = Writer::default();
        w.write(0, "Name:\tweb\n");
        w.write(0, "Namespace:\tdefault\n");
        assert_eq!(w.finish(), "Name:       web\nNamespace:  default\n");
    }

    #[test]
    fn a_line_without_tabs_ends_the_column_block() {
        let text = "A:\t1\nContainers:\n  longer-key:\tx\n";
        assert_eq!(
            go_tabwrite(text, 0, 2),
            "A:  1\nContainers:\n  longer-key:  x\n"
        );
    }

    #[test]
    fn inner_columns_align_only_over_lines_that_have_them() {
        let text = "Labels:\ta=1\n\tb=2\nX:\ty\tz\nLonger:\tq\tr\n";
        assert_eq!(
            go_tabwrite(text, 0, 2),
            "Labels:  a=1\n         b=2\nX:       y  z\nLonger:  q  r\n"
        );
    }

    #[test]
    fn flush_aligns_the_events_table_apart_from_what_came_before() {
        let mut w = Writer::default();
        w.write(0, "Very-long-key:\tv\n");
        w.flush();
        w.write(0, "Events:\n  Type\tReason\n");
        w!(w, 1, "{}\t{}\n", "Normal", "Scheduled");
        assert_eq!(
            w.finish(),
            "Very-long-key:  v\nEvents:\n  Type    Reason\n  Normal  Scheduled\n"
        );
    }
}
