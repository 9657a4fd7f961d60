"""Rows of the authorization matrix for accounts: password reset, two-factor sign-in,
one's own account page, and the administrators' resets (merged by
test_authorization_matrix)."""

from tests.matrix_base import ADMIN, everyone, office

ROWS = {
    ("auth.forgot_password", "GET"): ("/password/forgot", everyone(200)),
    ("auth.forgot_password", "POST"): ("/password/forgot", everyone(422)),
    ("auth.reset_password", "GET"): ("/password/reset/not-a-token", everyone(410)),
    ("auth.reset_password", "POST"): ("/password/reset/not-a-token", everyone(410)),
    # Without a sign-in waiting for its second step, back to the first.
    ("auth.second_factor", "GET"): ("/login/two-factor", everyone(302)),
    ("auth.second_factor", "POST"): ("/login/two-factor", everyone(302)),
    ("auth.enrol_second_factor", "GET"): ("/login/two-factor/enrol", everyone(302)),
    ("auth.enrol_second_factor", "POST"): ("/login/two-factor/enrol", everyone(302)),
    ("auth.account", "GET"): ("/account", everyone(200, anon=302)),
    ("auth.account_two_factor", "GET"): ("/account/two-factor", everyone(200, anon=302)),
    ("auth.account_two_factor", "POST"): ("/account/two-factor", everyone(200, anon=302)),
    ("auth.account_recovery_codes", "POST"): (
        "/account/two-factor/recovery-codes",
        everyone(302),
    ),
    ("auth.account_two_factor_off", "POST"): (
        "/account/two-factor/off",
        everyone(422, anon=302),
    ),
    # Sent without a choice, both are the defaults (the browser's language, the seller's zone).
    ("auth.account_preferences", "POST"): ("/account/preferences", everyone(302)),
    ("office.role_two_factor", "POST"): ("/office/roles/{role}/two-factor", office((ADMIN,))),
    ("office.user_two_factor_reset", "POST"): (
        "/office/users/{staff}/two-factor/reset",
        office((ADMIN,)),
    ),
    ("office.customer_person_two_factor_reset", "POST"): (
        "/office/customers/{acme}/people/{acme_person}/two-factor/reset",
        office((ADMIN,)),
    ),
}
