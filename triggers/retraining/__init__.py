"""Retraining pipelines: the trigger policy, the pipeline kinds (Python entry point, shell
command, HTTP trigger with a signed completion callback), log capture and timeouts.
Knows nothing of the monitor's database or API."""

from triggers.retraining.http import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    HttpStyle,
    HttpTrigger,
    SignatureRejected,
    TriggerFailed,
    sign_callback,
    sign_link,
    verify_callback,
    verify_link,
)
from triggers.retraining.pipelines import (
    CONTEXT_ENV,
    RESULT_ENV,
    LocalPipeline,
    PipelineResult,
    PythonEntryPoint,
    ResultError,
    ShellCommand,
    check_entry_point,
    read_result,
)
from triggers.retraining.policy import SEVERITY_ORDER, TriggerPolicy, severity_rank
from triggers.retraining.process import ProcessOutcome, ProcessStatus, read_log_tail, run_process

__all__ = [
    "CONTEXT_ENV",
    "RESULT_ENV",
    "SEVERITY_ORDER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "HttpStyle",
    "HttpTrigger",
    "LocalPipeline",
    "PipelineResult",
    "ProcessOutcome",
    "ProcessStatus",
    "PythonEntryPoint",
    "ResultError",
    "ShellCommand",
    "SignatureRejected",
    "TriggerFailed",
    "TriggerPolicy",
    "check_entry_point",
    "read_log_tail",
    "read_result",
    "run_process",
    "severity_rank",
    "sign_callback",
    "sign_link",
    "verify_callback",
    "verify_link",
]
