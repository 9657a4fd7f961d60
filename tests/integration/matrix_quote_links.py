"""Authorization matrix rows of quotes mailed to a contact (office.quote_mail and the link).

Sending and revoking are answering a quote: its editors in scope (Marco does not serve
Acme: 404), other staff 403. The demo holds no link, so revoking one is a 404 for all who
may answer. The public link pages need no sign-in: an unknown token is 410 for everyone
(tests/integration/test_quote_links.py covers real, expired, used and revoked links).
"""

from tests.matrix_base import ADMIN, ANNA, MANAGER, MARCO, everyone, office

from .matrix_quotes import ACME_QUOTE_EDITORS

LINK = "/q/not-a-real-token"

ROWS = {
    ("office.quote_mail", "POST"): (
        "/office/quotes/{acme_quote}/mail",
        office(ACME_QUOTE_EDITORS, not_found=(MARCO,)),
    ),
    ("office.quote_link_revoke", "POST"): (
        "/office/quotes/{acme_quote}/links/999999/revoke",
        office((), not_found=(ADMIN, MANAGER, ANNA, MARCO)),
    ),
    ("auth.quote_link", "GET"): (LINK, everyone(410)),
    ("auth.quote_link_pdf", "GET"): (LINK + ".pdf", everyone(410)),
    ("auth.quote_link_drawing", "GET"): (LINK + "/drawings/1", everyone(410)),
    ("auth.quote_link_accept", "POST"): (LINK + "/accept", everyone(410)),
    ("auth.quote_link_reject", "POST"): (LINK + "/reject", everyone(410)),
    ("auth.quote_link_reply", "POST"): (LINK + "/reply", everyone(410)),
}
