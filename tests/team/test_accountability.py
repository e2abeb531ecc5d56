"""Accountability on the authenticated team server (`mlwb server --auth` on a real PostgreSQL):
who may move `champion`, the four-eyes rule, the sign-off record, and no password anywhere."""

from __future__ import annotations

import base64
import json
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import mlflow
import numpy as np
import pytest
import servers
from helpers import mlwb
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LogisticRegression

from mlworkbench.governance import promotion
from mlworkbench.production.models import register_challenger

pytestmark = pytest.mark.team

MODEL = "accountability-model"


def register_as(url: str, env: dict[str, str], model: str = MODEL) -> str:
    """A tiny model logged and registered by the user of `env`, the way the train stage
    registers (`register_challenger`); returns its version."""
    with pytest.MonkeyPatch.context() as patch:
        for key in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            patch.setenv(key, env[key])
        mlflow.set_tracking_uri(url)
        try:  # no active experiment is left behind for later tests in this process
            client = mlflow.MlflowClient(url)
            found = client.get_experiment_by_name("accountability")
            experiment = (
                found.experiment_id if found else client.create_experiment("accountability")
            )
            with mlflow.start_run(experiment_id=experiment):
                fitted = LogisticRegression().fit(np.eye(4), [0, 1, 0, 1])
                info = mlflow.sklearn.log_model(fitted, name="model")
            return register_challenger(info.model_uri, model, {})
        finally:
            mlflow.set_tracking_uri(None)


def basic(name: str, signed_in) -> str:
    """The HTTP basic authorization header of user `name`."""
    password = signed_in(name)["MLFLOW_TRACKING_PASSWORD"]
    return "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()


def client_as(url: str, env: dict[str, str], patch: pytest.MonkeyPatch) -> mlflow.MlflowClient:
    for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        patch.setenv(key, env[key])
    patch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    return mlflow.MlflowClient(url)


@pytest.fixture(scope="module")
def versions(auth_server):
    """Versions registered by sam and sara (scientists) and rob (reviewer)."""
    url, passwords = auth_server["url"], auth_server["passwords"]
    return {
        name: register_as(url, servers.user_env(url, name, passwords[name]))
        for name in ("sam", "sara", "rob")
    }


def test_an_unauthenticated_request_is_refused(auth_server, signed_in, tmp_path):
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{auth_server['url']}/api/2.0/mlflow/experiments/search")
    assert refused.value.code == 401
    nobody = mlwb("promote", MODEL, "1", "--reason", "x", "--project-dir", str(tmp_path),
                  env=signed_in(""))  # fmt: skip
    assert nobody.returncode == 2
    assert nobody.stderr.strip() == (
        f"error: The tracking server {auth_server['url']} refused a request without a user "
        "name (401 unauthenticated). Set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD "
        "to an account an admin created with `mlwb users add`."
    )
    wrong = {**signed_in("sam"), "MLFLOW_TRACKING_PASSWORD": "not-the-password"}
    guessed = mlwb("promote", MODEL, "1", "--reason", "x", "--project-dir", str(tmp_path),
                   env=wrong)  # fmt: skip
    assert guessed.returncode == 2 and "refused the password of 'sam'" in guessed.stderr


def test_a_scientist_cannot_move_champion(auth_server, versions, signed_in, tmp_path):
    url = auth_server["url"]
    tried = mlwb("promote", MODEL, versions["sara"], "--reason", "looks fine",
                 "--project-dir", str(tmp_path), env=signed_in("sam"))  # fmt: skip
    assert tried.returncode == 2
    assert tried.stderr.strip() == (
        f"error: The tracking server {url} refused 'sam' (403): only reviewers and admins sign "
        "a version off; 'sam' is neither (an admin gives the role: mlwb users add NAME --role "
        "reviewer)."
    )
    assert "Traceback" not in tried.stderr
    with pytest.MonkeyPatch.context() as patch:
        client = client_as(url, signed_in("sam"), patch)
        with pytest.raises(MlflowException, match="only reviewers and admins move 'champion'"):
            client.set_registered_model_alias(MODEL, "champion", versions["sara"])
        tags = client.get_model_version(MODEL, versions["sara"]).tags
        assert "mlwb.decision" not in tags and "mlwb.signoff" not in tags  # nothing recorded
        champion = client.get_registered_model(MODEL).aliases.get("champion")
        assert champion != versions["sara"]
        with pytest.raises(MlflowException, match="may not register a version in the name"):
            client.create_model_version(
                MODEL, f"models:/{MODEL}/{versions['sam']}", tags={"mlwb.registered_by": "rita"}
            )
    for content_type in ("application/json", "text/plain"):  # MLflow reads JSON from either
        removal = urllib.request.Request(
            f"{url}/api/2.0/mlflow/registered-models/alias",
            data=json.dumps({"name": MODEL, "alias": "champion"}).encode(),
            method="DELETE",
            headers={"Content-Type": content_type, "Authorization": basic("sam", signed_in)},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(removal)
        assert refused.value.code == 403, content_type
        assert b"only reviewers and admins remove 'champion'" in refused.value.read()


def test_an_approved_version_of_a_scientist_waits_as_candidate(auth_server, versions, signed_in):
    """The card stage run by a scientist cannot move `champion`: the approved version becomes
    `candidate`, awaiting sign-off, even when its risk category does not ask for one."""
    with pytest.MonkeyPatch.context() as patch:
        client = client_as(auth_server["url"], signed_in("sam"), patch)
        passed = [promotion.Check("quality roc_auc", True, "0.8 >= 0.7 required")]
        decision = promotion.Decision(versions["sam"], passed)
        promotion.apply(client, MODEL, decision, "card-run")
        assert decision.label == "awaiting sign-off"
        version = client.get_model_version(MODEL, versions["sam"])
        assert version.tags["mlwb.decision"] == "awaiting sign-off"
        assert version.tags["mlwb.signoff"] == "awaiting"
        assert (
            "SIGN-OFF: the tracking server moves 'champion' only after"
            in version.tags["mlwb.decision_reasons"]
        )
        assert client.get_registered_model(MODEL).aliases["candidate"] == versions["sam"]


def test_a_reviewer_signs_off_a_candidate_in_their_own_name(
    auth_server, versions, signed_in, tmp_path
):
    test_an_approved_version_of_a_scientist_waits_as_candidate(auth_server, versions, signed_in)
    done = mlwb("promote", MODEL, "candidate", "--reason", "card and risk review read",
                "--project-dir", str(tmp_path), env=signed_in("rita"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        f"'{MODEL}' version {versions['sam']} is now the champion, signed off by rita "
        "(authenticated). Reason recorded: card and risk review read"
    )
    with pytest.MonkeyPatch.context() as patch:
        client = client_as(auth_server["url"], signed_in("rita"), patch)
        version = client.get_model_version(MODEL, versions["sam"])
        aliases = client.get_registered_model(MODEL).aliases
    assert aliases["champion"] == versions["sam"] and "candidate" not in aliases
    assert {k: v for k, v in version.tags.items() if k.startswith("mlwb.signoff")} == {
        "mlwb.signoff": "signed off",
        "mlwb.signoff_by": "rita",
        "mlwb.signoff_identity": "authenticated",
        "mlwb.signoff_at": version.tags["mlwb.signoff_at"],
        "mlwb.signoff_reason": "card and risk review read",
    }
    assert version.tags["mlwb.registered_by"] == "sam"
    assert version.tags["mlwb.decided_by"] == "rita (authenticated)"
    assert (tmp_path / "reports" / "index.html").is_file()


def test_nobody_signs_off_a_version_they_registered(auth_server, versions, signed_in, tmp_path):
    url = auth_server["url"]
    own = mlwb("promote", MODEL, versions["rob"], "--reason", "mine is good",
               "--project-dir", str(tmp_path), env=signed_in("rob"))  # fmt: skip
    assert own.returncode == 2
    assert own.stderr.strip() == (
        f"error: 'rob' registered version {versions['rob']} of '{MODEL}' and may not sign it off "
        "(four-eyes rule): another reviewer does."
    )
    with pytest.MonkeyPatch.context() as patch:  # the server refuses it without mlwb too
        client = client_as(url, signed_in("rob"), patch)
        with pytest.raises(MlflowException, match=r"'rob' registered version \d+ .*four-eyes"):
            client.set_registered_model_alias(MODEL, "champion", versions["rob"])
        with pytest.raises(MlflowException, match="four-eyes"):
            client.set_model_version_tag(MODEL, versions["rob"], "mlwb.signoff_by", "rob")
        with pytest.raises(MlflowException, match="only the server records"):
            client.set_model_version_tag(MODEL, versions["rob"], "mlwb.registered_by", "sara")
    with pytest.MonkeyPatch.context() as patch:  # nor without a sign-off record
        client = client_as(url, signed_in("rita"), patch)
        with pytest.raises(MlflowException, match="'rita' has not signed version .* off"):
            client.set_registered_model_alias(MODEL, "champion", versions["rob"])
        assert client.get_model_version(MODEL, versions["rob"]).tags.get("mlwb.signoff") is None


def test_no_password_in_a_log_message_listing_or_settings_file(auth_server, versions, signed_in):
    passwords = auth_server["passwords"]
    assert set(passwords) == {"admin", *servers.ROLES}
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "mlflow server" in listing or "gunicorn" in listing  # the server is listed
    texts = {
        "process listing": listing,
        "server log": Path(auth_server["log"]).read_text(),
        "settings file": Path(auth_server["settings"]).read_text(),
    }
    configs = sorted(Path(tempfile.gettempdir()).glob("mlwb-auth.*/auth.ini"))
    assert configs, "the server's auth config exists while it runs"
    texts.update({str(path): path.read_text() for path in configs})
    with pytest.MonkeyPatch.context() as patch:
        client = client_as(auth_server["url"], signed_in("admin"), patch)
        for run in client.search_runs(
            [e.experiment_id for e in client.search_experiments()], max_results=500
        ):
            texts[f"run {run.info.run_id}"] = repr((run.data.params, run.data.tags))
    for where, text in texts.items():
        for name, password in passwords.items():
            assert password not in text, f"the password of {name} is in the {where}"


def test_models_logged_through_the_signing_in_server_load_back(auth_server, versions, signed_in):
    """Artifact uploads pass the rules untouched: the registered model loads and predicts."""
    with pytest.MonkeyPatch.context() as patch:
        client_as(auth_server["url"], signed_in("sara"), patch)
        patch.setenv("MLFLOW_TRACKING_URI", auth_server["url"])
        mlflow.set_tracking_uri(auth_server["url"])
        try:
            model = mlflow.sklearn.load_model(f"models:/{MODEL}/{versions['sara']}")
        finally:
            mlflow.set_tracking_uri(None)
    assert list(model.predict(np.eye(4))) == [0, 1, 0, 1]
