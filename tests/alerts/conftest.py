"""Alert fixtures: the workspace's staff and sign-in, the dashboard's complaint seeder (facts included)."""
from tests.dashboard.conftest import Seeder, seeder  # noqa: F401
from tests.workspace.conftest import csrf, sign_in  # noqa: F401
