"""The Kubernetes manifests (deploy/kubernetes) are valid objects of a pinned Kubernetes
release, checked offline and strictly against its API schemas, and they run what the image
and docker-compose.yml run: the same commands, port, health path and environment variables
(portico/env.py, .env.example). The web pods' probe is sent for real to a web process
configured from the manifests' ConfigMap."""

import copy
import shlex
from pathlib import Path

import httpx
import kubernetes_validate
import pytest
import yaml
from celery.bin.celery import celery as celery_cli
from django.core.management import get_commands
from django.urls import reverse

from portico import env
from tests.multinode.processes import dockerfile_command

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "deploy" / "kubernetes"
# The manifests use nothing newer than this release (the autoscaling/v2 and policy/v1 APIs
# have been stable since 1.23 and 1.21); strict mode refuses fields the schema does not know.
KUBERNETES_VERSION = "1.34.0"
IMAGE = "portico"
# Variables that hold or can hold a password: in the Secret, never in the ConfigMap.
SECRET_VARIABLES = {
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "EMAIL_HOST_PASSWORD",
    "OIDC_CLIENT_SECRET",
    "LDAP_BIND_PASSWORD",
}
# What the manifests set differently from .env.example, and why: queues of their own.
CONFIG_OVERRIDES = {"CELERY_ROLLUP_QUEUE": "rollups", "CELERY_REPORT_QUEUE": "reports"}
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def kustomization() -> dict:
    return yaml.safe_load((FOLDER / "kustomization.yaml").read_text())


def manifests() -> list[tuple[str, dict]]:
    """(file, object) for every object of every file the kustomization lists."""
    found = []
    for name in kustomization()["resources"]:
        for document in yaml.safe_load_all((FOLDER / name).read_text()):
            if document is not None:
                found.append((name, document))
    return found


MANIFESTS = manifests()


def objects(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for _, doc in MANIFESTS if doc["kind"] == kind}


def pod_specs() -> dict[str, dict]:
    """The pod template of every Deployment and Job, by its owner's name."""
    return {
        name: doc["spec"]["template"]["spec"]
        for kind in ("Deployment", "Job")
        for name, doc in objects(kind).items()
    }


def containers(spec: dict) -> list[dict]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def configuration() -> tuple[dict[str, str], dict[str, str]]:
    [config] = objects("ConfigMap").values()
    [secret] = objects("Secret").values()
    return config["data"], secret["stringData"]


def celery_arguments(command: list[str]) -> tuple[str, list[str]]:
    """(subcommand, its arguments) of ``celery -A portico <subcommand> ...``."""
    assert command[:3] == ["celery", "-A", "portico"], command
    return command[3], command[4:]


def queues_of(command: list[str]) -> set[str]:
    _, arguments = celery_arguments(command)
    return set(arguments[arguments.index("-Q") + 1].split(","))


def main_container(name: str) -> dict:
    [container] = pod_specs()[name]["containers"]
    return container


def probe_headers(probe: dict) -> dict[str, str]:
    return {header["name"]: header["value"] for header in probe["httpGet"]["httpHeaders"]}


# --- Every object is valid for the pinned release ---------------------------------------------


def test_kustomization_lists_every_manifest_and_names_the_image():
    listed = kustomization()["resources"]
    assert sorted(listed) == sorted(
        path.name for path in FOLDER.glob("*.yaml") if path.name != "kustomization.yaml"
    )
    assert [image["name"] for image in kustomization()["images"]] == [IMAGE]
    for owner, spec in pod_specs().items():
        for container in containers(spec):
            assert container["image"] == IMAGE, (owner, container["name"])


@pytest.mark.parametrize(
    "manifest",
    [document for _, document in MANIFESTS],
    ids=[f"{name}:{doc['kind']}/{doc['metadata']['name']}" for name, doc in MANIFESTS],
)
def test_manifest_is_valid_for_the_pinned_kubernetes(manifest):
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_strict_validation_refuses_an_unknown_field():
    web = copy.deepcopy(objects("Deployment")["portico-web"])
    web["spec"]["replica"] = 3  # a typo that a lenient check would let through
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(web, KUBERNETES_VERSION, strict=True)


# --- The configuration: every variable once, secrets empty ------------------------------------


def test_config_map_and_secret_hold_every_variable_once():
    config, secret = configuration()
    example = env_example()
    assert set(example) >= env.VARIABLES
    assert not set(config) & set(secret)
    missing = set(example) - set(config) - set(secret)
    assert not missing, f"add {sorted(missing)} to deploy/kubernetes/configmap.yaml or secret.yaml"
    assert set(config) | set(secret) == set(example)
    assert set(secret) == SECRET_VARIABLES


def test_secret_holds_no_value():
    _, secret = configuration()
    assert set(secret.values()) == {""}


def test_config_map_has_the_production_values_of_env_example():
    config, _ = configuration()
    example = env_example()
    for name, value in config.items():
        assert value == CONFIG_OVERRIDES.get(name, example[name]), name


def test_every_container_reads_the_config_map_and_the_secret_only():
    config_map, secret = objects("ConfigMap"), objects("Secret")
    uid = int(shlex.split((ROOT / "Dockerfile").read_text().split("--uid", 1)[1])[0])
    for owner, spec in pod_specs().items():
        assert spec["securityContext"]["runAsUser"] == uid
        assert spec["securityContext"]["runAsNonRoot"] is True
        for container in containers(spec):
            assert container["envFrom"] == [
                {"configMapRef": {"name": next(iter(config_map))}},
                {"secretRef": {"name": next(iter(secret))}},
            ], (owner, container["name"])
            assert "env" not in container, (owner, container["name"])
            assert container["resources"]["requests"], (owner, container["name"])
            assert container["resources"]["limits"]["memory"], (owner, container["name"])


# --- What runs: the same commands as the image and docker-compose.yml --------------------------


def test_web_runs_the_image_command_on_its_port():
    web = objects("Deployment")["portico-web"]
    assert web["spec"]["replicas"] >= 2
    container = main_container("portico-web")
    assert container["command"] == dockerfile_command() == COMPOSE["web"]["command"]
    [port] = container["ports"]
    bind = dockerfile_command()[dockerfile_command().index("--bind") + 1]
    assert f"0.0.0.0:{port['containerPort']}" == bind
    assert f"EXPOSE {port['containerPort']}" in (ROOT / "Dockerfile").read_text()


def test_web_probes_ask_healthz_as_the_ingress_would():
    config, _ = configuration()
    container = main_container("portico-web")
    [port] = container["ports"]
    for kind in ("readinessProbe", "livenessProbe"):
        probe = container[kind]
        assert probe["httpGet"]["path"] == reverse("healthz") == "/healthz"
        assert probe["httpGet"]["port"] == port["name"]
        headers = probe_headers(probe)
        assert headers["Host"] == config["ALLOWED_HOSTS"].split(",")[0].strip()
        assert headers["X-Forwarded-Proto"] == "https"
        assert config["BEHIND_TLS_PROXY"] == "true"  # otherwise the header would mean nothing


def test_service_autoscaler_and_disruption_budget_point_at_the_web_pods():
    web = objects("Deployment")["portico-web"]
    pod_labels = web["spec"]["template"]["metadata"]["labels"]
    assert web["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    [service] = objects("Service").values()
    assert service["spec"]["selector"].items() <= pod_labels.items()
    [port] = service["spec"]["ports"]
    assert port["targetPort"] == main_container("portico-web")["ports"][0]["name"]
    [autoscaler] = objects("HorizontalPodAutoscaler").values()
    target = autoscaler["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "portico-web")
    assert 2 <= autoscaler["spec"]["minReplicas"] < autoscaler["spec"]["maxReplicas"]
    # CPU utilisation is measured against the request, which must be there.
    assert main_container("portico-web")["resources"]["requests"]["cpu"]
    [budget] = objects("PodDisruptionBudget").values()
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_workers_serve_every_queue_tasks_are_routed_to():
    config, _ = configuration()
    served = set()
    for name in objects("Deployment"):
        command = main_container(name)["command"]
        if command[:3] == ["celery", "-A", "portico"] and command[3] == "worker":
            assert not {"-B", "--beat"} & set(command)
            served |= queues_of(command)
    routed = {config["CELERY_ROLLUP_QUEUE"], config["CELERY_REPORT_QUEUE"], "celery"}
    assert served == routed
    # Each routed queue has workers of its own.
    rollups = main_container("portico-worker-rollups")["command"]
    assert queues_of(rollups) == {config["CELERY_ROLLUP_QUEUE"]}


def test_one_roll_up_process_keeps_the_figures_an_incremental_run_starts_from():
    # docs/tco.md: a run after an edit is incremental only in the process that made the last.
    assert objects("Deployment")["portico-worker-rollups"]["spec"]["replicas"] == 1
    assert "--concurrency=1" in main_container("portico-worker-rollups")["command"]


def test_worker_liveness_pings_the_worker_as_compose_does():
    compose = COMPOSE["worker"]["healthcheck"]["test"]
    assert compose[0] == "CMD-SHELL"
    for name in ("portico-worker-rollups", "portico-worker-reports"):
        probe = main_container(name)["livenessProbe"]["exec"]["command"]
        assert probe[:2] == ["sh", "-c"]
        assert probe[2] == compose[1].replace("$$", "$")  # compose escapes $ as $$


def test_exactly_one_beat_recreated_not_rolled():
    beats = [
        name
        for name in objects("Deployment")
        if main_container(name)["command"][:1] == ["celery"]
        and celery_arguments(main_container(name)["command"])[0] == "beat"
    ]
    assert beats == ["portico-beat"]
    beat = objects("Deployment")["portico-beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    assert main_container("portico-beat")["command"] == COMPOSE["beat"]["command"]
    probe = main_container("portico-beat")["livenessProbe"]["exec"]["command"]
    assert probe == COMPOSE["beat"]["healthcheck"]["test"][1:]


def test_migrations_run_in_a_job_that_every_pod_waits_for():
    [job] = objects("Job").values()
    [migrate] = job["spec"]["template"]["spec"]["containers"]
    assert migrate["command"] == COMPOSE["migrate"]["command"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    for name in objects("Deployment"):
        [wait] = pod_specs()[name]["initContainers"]
        assert wait["command"] == ["python", "manage.py", "migrate", "--check"], name


def test_commands_name_real_commands():
    for owner, spec in pod_specs().items():
        for container in containers(spec):
            command = container["command"]
            if "manage.py" in command:
                assert command[command.index("manage.py") + 1] in get_commands(), owner
            elif command[0] == "celery":
                assert celery_arguments(command)[0] in celery_cli.commands, owner
            else:
                assert command[0] == "gunicorn", owner


# --- The probe, sent for real -----------------------------------------------------------------


@pytest.mark.django_db
def test_web_probe_passes_on_a_web_process_configured_from_the_config_map(topology):
    config, _ = configuration()
    probe = main_container("portico-web")["readinessProbe"]
    headers = probe_headers(probe)
    # The ConfigMap's values; the Secret's (empty in the manifest) are the test's own.
    web = topology.web(
        "web",
        probe_headers=headers,
        **{**config, "DJANGO_SETTINGS_MODULE": "tests.multinode.settings"},
    )
    topology.wait_ready(web)
    answer = httpx.get(web.url + probe["httpGet"]["path"], headers=headers, timeout=30)
    assert (answer.status_code, answer.json()["status"]) == (200, "ok")
    # Without its headers the same request is turned away (a 301 would pass a probe
    # without asking anything): they are what makes the probe reach /healthz.
    assert httpx.get(web.url + "/healthz", timeout=30).status_code == 400
    redirected = httpx.get(web.url + "/healthz", headers={"Host": headers["Host"]}, timeout=30)
    assert redirected.status_code == 301
