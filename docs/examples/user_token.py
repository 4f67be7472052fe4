"""A store's backend computes the VIZOCHOK user_token of a signed-in shopper.

    VIZOCHOK_IDENTITY_SECRET=... python3 user_token.py USER_ID

See docs/identity.md. The identity secret stays on the backend; the page
gets only the user_id and this token.
"""
import hashlib
import hmac
import os
import sys


def user_token(identity_secret: str, user_id: str) -> str:
    """Lowercase hex of HMAC-SHA256(key=identity_secret, message=UTF-8 user_id)."""
    return hmac.new(identity_secret.encode("utf-8"), user_id.encode("utf-8"), hashlib.sha256).hexdigest()


if __name__ == "__main__":
    print(user_token(os.environ["VIZOCHOK_IDENTITY_SECRET"], sys.argv[1]))
