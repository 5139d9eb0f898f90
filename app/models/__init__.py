"""Every model, imported so that the metadata is complete. One module per aggregate."""
from app.models.event import GENESIS_HASH, ProcessEvent
from app.models.job import Job, JobStatus
from app.models.process import DefinitionFile, InstanceStatus, ProcessDefinition, ProcessInstance
from app.models.task import HumanTask, TaskStatus
from app.models.timer import MessageWait, Timer, TimerStatus
from app.models.user import ROLES, User

__all__ = [
    "GENESIS_HASH", "ProcessEvent", "Job", "JobStatus", "DefinitionFile", "InstanceStatus",
    "ProcessDefinition", "ProcessInstance", "HumanTask", "TaskStatus", "MessageWait", "Timer",
    "TimerStatus", "ROLES", "User",
]
from app.models.classifier import ClassifierModel, LabelCorrection  # noqa: F401
from app.models.api_token import ApiToken  # noqa: F401
from app.models.notification import Notification, NotificationStatus  # noqa: F401
from app.models.knowledge import KbArticle, KnowledgeCase  # noqa: F401
from app.models.alert import Alert, AlertKind  # noqa: F401
from app.models.payment import GatewayNotification, Payment, PaymentAlert, Refund, RefundEvent  # noqa: F401
from app.models.customer import Customer, CustomerToken, UsedLoginLink  # noqa: F401
from app.models.order import Order  # noqa: F401
from app.models.complaint import Complaint, ComplaintAttachment  # noqa: F401
from app.models.studio import DraftStatus, StudioDraft, StudioDraftFile  # noqa: F401
from app.models.workspace import GROUPS, ReplyTemplate, Substitution, TaskComment, TaskWorkload  # noqa: F401
from app.models.personal_data import PersonalData  # noqa: F401
from app.models.dashboard import ComplaintDaily, ComplaintTopDaily, RefundDaily  # noqa: F401
