"""A researcher's config cannot make a worker call an internal address or open a file outside the data roots:
launches are refused with a field error naming the setting, before anything is stored, and the error reads the
same whether or not the path exists. What a policy server says about itself is kept to a fixed set of fields."""


import pytest
from rest_framework.test import APIClient

from jobs.errors import ServiceError
from prover.engine.adapters import known_model_info
from prover.engine.fences import FenceError, check_path, check_service_url
from prover.models import Run
from prover.services import import_dataset, launch_run
from training.models import TrainingRun
from training.services import launch_training

EASY = '{"name": "t0", "formal_statement": "theorem t0 (x : ℝ) (h : x = 1) : x + 1 = 2 := by", "split": "test"}'


@pytest.fixture
def dataset(db):
    return import_dataset(name="easy", text=EASY, format="minif2f-lean4").dataset


REFUSED_URLS = [
    "http://169.254.169.254/latest/meta-data",  # cloud metadata
    "http://[fd00:ec2::254]/",  # the IPv6 metadata address
    "http://[fe80::1]:30000",
    "http://u:p@10.0.0.1:30000",  # userinfo
    "http://127.0.0.1:30000/?",  # a query would control the whole path
    "http://127.0.0.1:30000/#x",
    "file:///etc/passwd",
    "gopher://127.0.0.1:30000",
    "http://10.0.0.1:30000",  # a host nobody allowed
    "http://0x0a000001:30000",  # 10.0.0.1 written as one hex number
    "http://127.0.0.1:6390",  # the embedded Redis
]


@pytest.mark.parametrize("url", REFUSED_URLS)
@pytest.mark.parametrize("key", ["policy_url", "encoder_url"])
def test_a_run_pointing_at_an_internal_address_is_refused_naming_the_field(researcher, dataset, settings, key, url):
    settings.REDIS_URL = "redis://127.0.0.1:6390/0"
    config = {"dataset": "easy", key: url, **({"ebm_path": ""} if key == "encoder_url" else {})}
    with pytest.raises(ServiceError) as caught:
        launch_run(user=researcher, config=config)
    assert key in caught.value.errors, caught.value.errors
    assert not Run.objects.exists()


def test_numeric_spellings_of_an_address_are_read_as_the_address():
    for spelling in ("0x7f000001", "2130706433", "127.1", "0177.0.0.1"):
        assert check_service_url(f"http://{spelling}:30000", allowed_hosts=["127.0.0.1"])
        with pytest.raises(FenceError, match="not one of the allowed"):
            check_service_url(f"http://{spelling}:30000", allowed_hosts=["10.0.0.5"])
    assert check_service_url("http://0x0a000005:30000", allowed_hosts=["10.0.0.5"])


def test_an_allowed_host_is_accepted_and_the_setting_widens_the_list(researcher, dataset, settings):
    launch_run(user=researcher, config={"dataset": "easy", "policy_url": "http://127.0.0.1:30001"})
    with pytest.raises(ServiceError):
        launch_run(user=researcher, config={"dataset": "easy", "policy_url": "http://gpu-7.cluster:30000"})
    settings.BURNQED_SERVICE_HOSTS = [*settings.BURNQED_SERVICE_HOSTS, "gpu-7.cluster"]
    launch_run(user=researcher, config={"dataset": "easy", "policy_url": "http://gpu-7.cluster:30000"})
    assert Run.objects.count() == 2


def test_paths_outside_the_data_roots_are_refused_without_saying_whether_they_exist(tmp_path):
    root = tmp_path / "root"
    (root / "models").mkdir(parents=True)
    (root / "escape").symlink_to("/etc")
    messages = set()
    for path in ("/etc/passwd", "/etc/no-such-file-here", f"{root}/../secret", f"{root}/escape/passwd",
                 "/proc/self/environ"):
        with pytest.raises(FenceError) as caught:
            check_path(path, roots=[root])
        messages.add(str(caught.value))
    assert len(messages) == 1, messages  # one answer for existing and missing files alike
    for refused in ("models/m", "", "a\x00b"):
        with pytest.raises(FenceError):
            check_path(refused, roots=[root])
    assert check_path(f"{root}/models/m", roots=[root]) == str(root / "models" / "m")


PATHS = {"ebm_path": "/etc", "adapter": "/proc/self"}


@pytest.mark.parametrize("key", sorted(PATHS))
def test_a_run_naming_a_file_outside_the_roots_is_refused(researcher, dataset, key):
    config = {"dataset": "easy", key: PATHS[key], "encoder_url": "http://127.0.0.1:30002"}
    with pytest.raises(ServiceError) as caught:
        launch_run(user=researcher, config=config)
    assert key in caught.value.errors
    assert "exist" not in str(caught.value)


@pytest.mark.parametrize("kind,config,field", [
    ("sft", {"model_path": "/etc", "data_files": ["/etc/shadow"]}, "config.model_path"),
    ("sft", {"model_path": "{tmp}", "data_files": ["{tmp}/../../../../etc/shadow"]}, "config.data_files[0]"),
    ("sft", {"model_path": "{tmp}", "data_files": ["{tmp}/d"], "init_adapter": "/root"}, "config.init_adapter"),
    ("sft", {"model_path": "{tmp}", "data_files": ["{tmp}/d"], "output_dir": "/etc/cron.d"}, "config.output_dir"),
    ("ebm", {"trajectory_files": ["/proc/self/environ"], "model_path": "{tmp}"}, "config.trajectory_files[0]"),
    ("ebm", {"trajectory_files": ["{tmp}/t"], "model_path": "{tmp}", "init_from": "/var"}, "config.init_from"),
    ("ebm", {"trajectory_files": ["{tmp}/t"], "encoder_url": "file:///etc/passwd", "hidden_size": 8},
     "config.encoder_url"),
])
def test_training_configs_are_fenced_the_same_way(researcher, tmp_path, kind, config, field):
    config = {k: [v.format(tmp=tmp_path) for v in value] if isinstance(value, list) else
              value.format(tmp=tmp_path) if isinstance(value, str) else value for k, value in config.items()}
    with pytest.raises(ServiceError) as caught:
        launch_training(user=researcher, kind=kind, config=config)
    assert field in caught.value.errors, caught.value.errors
    assert "does not exist" not in str(caught.value)
    assert not TrainingRun.objects.exists()


def test_the_api_answers_a_fenced_setting_with_a_400_naming_it(researcher, dataset):
    client = APIClient()
    client.force_authenticate(researcher)
    response = client.post("/api/runs/", {"config": {"dataset": "easy", "policy_url": "http://169.254.169.254"}},
                           format="json")
    assert response.status_code == 400, response.content
    assert "policy_url" in response.content.decode()


def test_a_policy_servers_self_description_keeps_only_known_fields():
    served = {"model_path": "/models/x", "dtype": "bf16", "hidden_size": 576, "secret_token": "canary-123",
              "aws": {"key": "k"}, "version": "v\x1b[31m" + "x" * 1000}
    kept = known_model_info(served)
    assert kept["model_path"] == "/models/x" and kept["hidden_size"] == 576
    assert "secret_token" not in kept and "aws" not in kept
    assert "\x1b" not in kept["version"] and len(kept["version"]) <= 200


def test_no_run_setting_names_an_executable():
    from prover.engine.spec import spec_fields

    assert not [f.name for f in spec_fields() if "repl" in f.name or "command" in f.name or "program" in f.name]


@pytest.mark.parametrize("extra,field", [
    ({"run": {"policy_url": "http://169.254.169.254"}}, "run.policy_url"),
    ({"model_path": "/etc"}, "model_path"),
    ({"sft": {"max_steps": 10**12}}, "sft.max_steps"),
    ({"ebm": {"init_from": "/root"}}, "ebm.init_from"),
    ({"search": {"probe_tactics": ["#eval 1"]}}, "search.probe_tactics[0]"),
])
def test_an_iteration_is_fenced_at_launch_for_the_jobs_it_will_launch(researcher, db, extra, field):
    from iterations.models import Iteration
    from iterations.services import launch_iteration

    import_dataset(name="train", text=EASY.replace("t0", "a0"), format="minif2f-lean4")
    import_dataset(name="held-out", text=EASY, format="minif2f-lean4")
    with pytest.raises(ServiceError) as caught:
        launch_iteration(user=researcher, config={"train_dataset": "train", "eval_dataset": "held-out", **extra})
    assert field in caught.value.errors, caught.value.errors
    assert not Iteration.objects.exists()
