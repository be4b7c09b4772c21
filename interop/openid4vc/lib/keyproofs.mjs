// Key proofs for a Credential Request, shared by the harness wallets: one fresh key
// per credential asked for, each proven by a `jwt` proof (OpenID4VCI 1.0 section 8.2.1.1).

import { generateKey } from './common.mjs'

/**
 * `count` fresh keys of `alg` (their private JWKs appended to `keys`, so the
 * callbacks can sign with them) and a `jwt` key proof by each, for the issuer and
 * configuration; `nonceFor(i)` gives proof i's c_nonce (it may be async).
 */
export async function proveKeys({ client, issuerMetadata, configurationId, alg, count, keys, nonceFor }) {
  const holderKeys = []
  const jwts = []
  for (let i = 0; i < count; i++) {
    const nonce = await nonceFor(i)
    const holderKey = await generateKey(alg)
    keys.push(holderKey.privateJwk)
    holderKeys.push(holderKey)
    const { jwt } = await client.createCredentialRequestJwtProof({
      issuerMetadata,
      credentialConfigurationId: configurationId,
      signer: { method: 'jwk', alg, publicJwk: holderKey.publicJwk },
      nonce,
    })
    jwts.push(jwt)
  }
  return { holderKeys, jwts }
}
