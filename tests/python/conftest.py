"""Starts a fresh `kube-lite up` on a free port for the Python-client tests."""
import os
import re
import subprocess
import tempfile

import pytest
from kubernetes import client, config


@pytest.fixture(scope="session")
def kube_lite():
    binary = os.environ.get("KUBE_LITE_BIN") or os.path.join(
        os.path.dirname(__file__), "..", "..", "target", "release", "kube-lite"
    )
    tmp = tempfile.mkdtemp(prefix="kube-lite-py-")
    kubeconfig = os.path.join(tmp, "kubeconfig")
    proc = subprocess.Popen(
        [binary, "up", "--data-dir", os.path.join(tmp, "data"), "--listen", "127.0.0.1:0",
         "--kubeconfig", kubeconfig],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "HOME": tmp},
    )
    line = proc.stdout.readline()
    url = re.search(r"http://[0-9.:]+", line).group(0)
    yield {"url": url, "kubeconfig": kubeconfig}
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture()
def api(kube_lite):
    cfg = client.Configuration()
    config.load_kube_config(config_file=kube_lite["kubeconfig"], client_configuration=cfg)
    return client.ApiClient(cfg)
