// A store's backend computes the VIZOCHOK user_token of a signed-in shopper.
//
//     VIZOCHOK_IDENTITY_SECRET=... node user_token.mjs USER_ID
//
// See docs/identity.md. The identity secret stays on the backend; the page
// gets only the user_id and this token.
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';

/** Lowercase hex of HMAC-SHA256(key = identitySecret, message = UTF-8 userId). */
export function userToken(identitySecret, userId) {
  return createHmac('sha256', Buffer.from(identitySecret, 'utf8')).update(userId, 'utf8').digest('hex');
}

// Run as a script (not imported): print the token of the user_id given.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(userToken(process.env.VIZOCHOK_IDENTITY_SECRET, process.argv[2]));
}
