"""Two-factor authentication: an authenticator app (TOTP) with single-use recovery codes,
built on django-otp's devices, which compare the codes and slow down repeated guesses.

`services` changes a person's devices and an organisation's requirement, `selectors`
reads them, and `session` keeps where this browser stands: a sign-in waiting for its
code, and sending a signed-in person to the code step or to set-up.
"""
