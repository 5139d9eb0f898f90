"""Service-task operators that ship with Kesu, registered into the engine at app start."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.services.alerts import register_alerts
from app.outbox_worker import register_outbox
from app.services.audit_anchor import register_audit
from app.services.case_operators import register_operators as register_case_operators
from app.services.classification import register_operators as register_classification
from app.services.payment_tasks import register_payments
from app.services.uploads import register_upload_cleanup
from workflows.services import ServiceCall

if TYPE_CHECKING:
    from app.runtime import Runtime


def echo(call: ServiceCall) -> dict[str, Any]:
    """Return the parameters unchanged (for trying out diagrams and for tests)."""
    return dict(call.params)


def register_builtin_operators(runtime: Runtime) -> None:
    """Register every operator whose handler lives in app/services."""
    runtime.operators.register("echo", echo, parameters=("*",),
                               description="Return the parameters unchanged")
    register_classification(runtime.operators)
    register_case_operators(runtime.operators)
    register_payments(runtime)
    register_audit(runtime)
    register_outbox(runtime)
    register_upload_cleanup(runtime)
    register_alerts(runtime)
