"""Authorization matrix rows of the background jobs page (merged by test_authorization_matrix).

The page belongs to the settings module: whoever may see settings sees the jobs (admin,
manager); retrying a failed job needs settings.edit (the admin alone). The template
database holds no failed job, so a retry URL is a 404 for the admin (a real retry is
tested in test_jobs.py) and a 403 for everyone else.
"""

from tests.matrix_base import ADMIN, MANAGER, office

ROWS = {
    ("office.jobs_page", "GET"): ("/office/jobs", office((ADMIN, MANAGER), ok=200)),
    ("office.job_retry", "POST"): ("/office/jobs/999999/retry", office((), not_found=(ADMIN,))),
}
