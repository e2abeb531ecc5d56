"""Every `mlwb.*` tag name the workbench writes on runs, model versions and datasets.

Defined here once, so a reader finds what a tag means and a writer cannot misspell it.
"""

TAG_ATTEMPTS = "mlwb.attempts"
"""On a stage's first run: JSON list of [worker, run id], one per attempt."""

TAG_BATCH_DATE = "mlwb.batch_date"
"""Monitor run: the date of its batch."""

TAG_BUNDLED_DATASET = "mlwb.bundled_dataset"
"""Dataset-source tag naming a bundled dataset."""

TAG_CACHE_INPUTS = "mlwb.cache_inputs"
"""Stage run: JSON of the inputs its cache key was computed from."""

TAG_CACHE_KEY = "mlwb.cache_key"
"""Stage run: digest of everything its result depends on (notebook, parameters, data, code)."""

TAG_CARD = "mlwb.model_card"
"""Model version: where its model card (Markdown) is stored."""

TAG_CARD_RUN = "mlwb.card_run"
"""Model version: the card run that judged it."""

TAG_CARD_EXPORT_CYCLONEDX = "mlwb.card_export.cyclonedx"
"""Model version: SHA-256 of its model card exported as a CycloneDX ML-BOM (`mlwb card export`)."""

TAG_CARD_EXPORT_JSON = "mlwb.card_export.json"
"""Model version: SHA-256 of its model card exported as JSON (`mlwb card export`)."""

TAG_CARD_EXPORT_PDF = "mlwb.card_export.pdf"
"""Model version: SHA-256 of its model card exported as PDF (`mlwb card export`)."""

TAG_COMBINATION = "mlwb.sweep.combination"
"""Pipeline run of a sweep: JSON of the values of its combination."""

TAG_CONFIG = "mlwb.config_file"
"""Run: the config file it was started from."""

TAG_DECIDED_AT = "mlwb.decided_at"
"""Model version: when the promotion decision was taken."""

TAG_DECIDED_BY = "mlwb.decided_by"
"""Model version: who (or which stage) took the promotion decision."""

TAG_DECISION = "mlwb.decision"
"""Model version: the promotion decision."""

TAG_DIGEST = "mlwb.data_digest"
"""Run: digest of the data it read."""

TAG_ERROR = "mlwb.error"
"""Failed run: the exception, as `Type: message`."""

TAG_EXPLAINED_MODEL = "mlwb.explained_model"
"""Explain run: the model URI it explained."""

TAG_FAIRNESS = "mlwb.fairness"
"""Explain run: the overall fairness gate status."""

TAG_GATE_PREFIX = "mlwb.gate."
"""Explain run: one tag per fairness gate, `mlwb.gate.<feature>.<gate>`."""

TAG_GIT = "mlwb.git_commit"
"""Run: the git commit of the project (marked dirty with uncommitted changes)."""

TAG_INTERACTIVE = "mlwb.interactive"
"""Stage run: started by its notebook itself (JupyterLab, `mlwb open`), not by `mlwb run`."""

TAG_KEY_FIGURES = "mlwb.key_figures"
"""Stage run: comma-separated names of the metrics the index shows."""

TAG_LABEL = "mlwb.sweep.label"
"""Pipeline run of a sweep: a short label of its combination."""

TAG_LAST_AT = "mlwb.last_decision_at"
"""Registered model: when its last promotion decision was taken."""

TAG_LAST_DECISION = "mlwb.last_decision"
"""Registered model: its last promotion decision."""

TAG_LAST_VERSION = "mlwb.last_decision_version"
"""Registered model: the version its last promotion decision was about."""

TAG_LOADTEST_PREFIX = "mlwb.loadtest."
"""Model version: prefix of the load-test figures (`mlwb.loadtest.p95_ms`, ...)."""

TAG_MIGRATED_AT = "mlwb.migrated_at"
"""Destination experiment: when `mlwb migrate` finished copying it."""

TAG_MIGRATED_FROM = "mlwb.migrated_from"
"""Copied run or model: its id in the source store (`mlwb migrate`)."""

TAG_MODEL = "mlwb.model"
"""Card, score and monitor runs: the registered model they used, as `NAME/VERSION`."""

TAG_MONITOR_BATCH_DATE = "mlwb.monitor.batch_date"
"""Model version: the date of the last monitored batch."""

TAG_MONITOR_RUN = "mlwb.monitor.run"
"""Model version: the last monitor run."""

TAG_MONITOR_STATUS = "mlwb.monitor.status"
"""Monitor run, and the model version: OK, WARN or ALERT."""

TAG_NOTEBOOK = "mlwb.notebook"
"""Stage run: the notebook it executed."""

TAG_OUTPUT = "mlwb.output"
"""Score run: the file the scores were written to."""

TAG_PACKAGES = "mlwb.packages"
"""Run: versions of the packages that shape its results."""

TAG_PIPELINE = "mlwb.pipeline"
"""Pipeline run (parent): marks it as a pipeline run."""

TAG_PRIMARY_METRIC = "mlwb.primary_metric"
"""Train run: the metric the model is judged by."""

TAG_REASONS = "mlwb.decision_reasons"
"""Model version: the reasons of its promotion decision, one per line."""

TAG_REGISTERED_BY = "mlwb.registered_by"
"""Model version: who registered it (the train stage's user). On an authenticated tracking
server the server checks that it is the signed-in user, so the four-eyes rule can trust it."""

TAG_SIGNOFF = "mlwb.signoff"
"""Model version: its human sign-off, `awaiting` (approved by the card stage, alias `candidate`)
or `signed off` (`mlwb promote` by a reviewer moved `champion` to it)."""

SIGNOFF_AWAITING = "awaiting"
"""Value of `TAG_SIGNOFF`: approved by the card stage, alias `candidate`, awaiting sign-off."""

SIGNED_OFF = "signed off"
"""Value of `TAG_SIGNOFF`: a person signed the version off and `champion` moved to it."""

TAG_SIGNOFF_AT = "mlwb.signoff_at"
"""Model version: when it was signed off (UTC)."""

TAG_SIGNOFF_BY = "mlwb.signoff_by"
"""Model version: who signed it off: the signed-in user of an authenticated tracking server,
else the operating-system user (see `TAG_SIGNOFF_IDENTITY`)."""

TAG_SIGNOFF_IDENTITY = "mlwb.signoff_identity"
"""Model version: how the signer's identity is known: `authenticated` (checked by the tracking
server) or `unauthenticated` (the operating-system user name, which anyone can set)."""

TAG_SIGNOFF_REASON = "mlwb.signoff_reason"
"""Model version: the reason its signer gave."""

TAG_REPORT = "mlwb.report"
"""Stage run: the path of its HTML report, relative to the reports folder."""

TAG_REPORTS_DIR = "mlwb.reports_dir"
"""Pipeline run: the reports folder its stages wrote to."""

TAG_REPRODUCED = "mlwb.reproduced"
"""Rerun: whether every metric was reproduced."""

TAG_RERUN_OF = "mlwb.rerun_of"
"""Pipeline run: the run it repeats (`mlwb rerun`)."""

TAG_RETRY_OF = "mlwb.retry_of"
"""On a retry's run: the first run of the stage, whose worker died."""

TAG_REUSED_FROM = "mlwb.reused_from"
"""Stage run: the earlier run whose results it reuses."""

TAG_REUSED_STAGE = "mlwb.reused_stage"
"""Stage run that was reused: marks it as a record of reuse, not an execution."""

TAG_STAGE = "mlwb.stage"
"""Stage run: the stage name (eda, train, explain, card, score, monitor)."""

TAG_SUMMARY = "mlwb.summary"
"""A few lines a stage wants printed by `mlwb run` after it finishes (the card's decision)."""

TAG_SWEEP = "mlwb.sweep"
"""Pipeline run of a sweep: the sweep's id."""

TAG_TRAIN_RUN = "mlwb.train_run"
"""Runs downstream of training: the train run they used."""

TAG_VERSION = "mlwb.version"
"""Run: the mlworkbench version."""

TAG_WORKER = "mlwb.worker"
"""The Dask worker that executed the stage."""
