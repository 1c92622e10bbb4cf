"""The official Python `kubernetes` client against kube-lite: CRUD, optimistic concurrency,
patches, label-selected lists, watches from a resourceVersion, and the scale subresource."""
import uuid

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def configmap(name, labels=None, data=None):
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, labels=labels or {}), data=data or {"k": "v"}
    )


def deployment(name, replicas=2):
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="nginx", image="nginx:1.7.9")]),
            ),
        ),
    )


def test_configmap_crud_round_trips(api):
    core = client.CoreV1Api(api)
    name = unique("crud")
    created = core.create_namespaced_config_map("default", configmap(name, data={"a": "1"}))
    assert created.metadata.uid and created.metadata.resource_version
    got = core.read_namespaced_config_map(name, "default")
    assert got.data == {"a": "1"}
    got.data["b"] = "2"
    replaced = core.replace_namespaced_config_map(name, "default", got)
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    core.delete_namespaced_config_map(name, "default")
    with pytest.raises(ApiException) as err:
        core.read_namespaced_config_map(name, "default")
    assert err.value.status == 404


def test_stale_update_is_a_409_conflict(api):
    core = client.CoreV1Api(api)
    name = unique("conflict")
    first = core.create_namespaced_config_map("default", configmap(name))
    fresh = core.read_namespaced_config_map(name, "default")
    fresh.data = {"k": "newer"}
    core.replace_namespaced_config_map(name, "default", fresh)
    first.data = {"k": "stale"}
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_config_map(name, "default", first)
    assert err.value.status == 409
    assert "the object has been modified" in err.value.body


def test_patches_merge_into_the_stored_object(api):
    core = client.CoreV1Api(api)
    name = unique("patch")
    core.create_namespaced_config_map("default", configmap(name, labels={"a": "1"}, data={"x": "1"}))
    patched = core.patch_namespaced_config_map(name, "default", {"metadata": {"labels": {"b": "2"}}, "data": {"y": "2"}})
    assert patched.metadata.labels == {"a": "1", "b": "2"}
    assert patched.data == {"x": "1", "y": "2"}


def test_label_selected_list_returns_only_matches(api):
    core = client.CoreV1Api(api)
    tag = unique("sel")
    for i in range(3):
        core.create_namespaced_config_map("default", configmap(f"{tag}-{i}", labels={"group": tag, "i": str(i)}))
    core.create_namespaced_config_map("default", configmap(f"{tag}-other", labels={"group": "other"}))
    items = core.list_namespaced_config_map("default", label_selector=f"group={tag},i in (0,2)").items
    assert sorted(i.metadata.name for i in items) == [f"{tag}-0", f"{tag}-2"]


def test_watch_from_a_resource_version_sees_changes_in_order(api):
    core = client.CoreV1Api(api)
    tag = unique("watch")
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", configmap(tag, labels={"w": tag}))
    core.patch_namespaced_config_map(tag, "default", {"data": {"k": "changed"}})
    core.delete_namespaced_config_map(tag, "default")
    seen = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, "default", resource_version=rv,
                          label_selector=f"w={tag}", timeout_seconds=5):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", tag), ("MODIFIED", tag), ("DELETED", tag)]


def test_scale_subresource_reads_and_patches_replicas(api):
    apps = client.AppsV1Api(api)
    name = unique("scale")
    apps.create_namespaced_deployment("default", deployment(name, replicas=2))
    scale = apps.read_namespaced_deployment_scale(name, "default")
    assert scale.spec.replicas == 2
    assert scale.status.selector == f"app={name}"
    apps.patch_namespaced_deployment_scale(name, "default", {"spec": {"replicas": 5}})
    assert apps.read_namespaced_deployment(name, "default").spec.replicas == 5
