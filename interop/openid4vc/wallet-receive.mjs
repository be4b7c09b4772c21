#!/usr/bin/env node
// An OpenID4VCI 1.0 wallet built on @openid4vc/openid4vci: resolves a credential
// offer, takes the pre-authorized code flow (with the transaction code when the
// offer asks for one, and DPoP when the authorization server supports it), gets a
// fresh c_nonce from the nonce endpoint, proves possession of keys it generates
// (jwt proof type) and requests every offered credential configuration.
//
//   node wallet-receive.mjs OFFER_URI [--tx-code CODE] [--alg ES256|EdDSA] [--batch N]
//                           [--nonce-per-proof] [--trust-issuer DID ...] [--did-keys FILE] [--out FILE]
//
// Prints {"ok": true, credentials: [...]} where each entry holds the configuration
// id, format, the credential, the holder's private JWK (test keys only) and what the
// harness checked on it (issuer signature, binding to the holder key).

import fs from 'node:fs'
import { Openid4vciClient } from '@openid4vc/openid4vci'
import { args, didNamesKey, loadDidKeys, generateKey, jwkEquals, makeCallbacks, publicJwkOf, run } from './lib/common.mjs'
import { verifyJwtVc, verifySdJwtVc } from './lib/formats.mjs'
import { proveKeys } from './lib/keyproofs.mjs'

async function main() {
  const { values, positionals } = args({
    'tx-code': { type: 'string' },
    alg: { type: 'string', default: 'ES256' },
    batch: { type: 'string', default: '1' },
    'trust-issuer': { type: 'string', multiple: true },
    'did-keys': { type: 'string' },
    'no-dpop': { type: 'boolean', default: false },
    // a fresh c_nonce for every proof of a batch, instead of one shared by the request
    'nonce-per-proof': { type: 'boolean', default: false },
    out: { type: 'string' },
  })
  if (positionals.length !== 1) throw new Error('usage: wallet-receive.mjs OFFER_URI [options]')
  const batch = Number(values.batch)
  if (values['did-keys']) loadDidKeys(values['did-keys'])
  const keys = []
  const { callbacks } = makeCallbacks({ keys })
  const client = new Openid4vciClient({ callbacks })

  // 1. the offer (by value or by reference) and the issuer's metadata
  const offer = await client.resolveCredentialOffer(positionals[0])
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer)

  // 2. the token, with DPoP when the authorization server advertises it
  const authorizationServer = issuerMetadata.authorizationServers[0]
  let dpop
  if (!values['no-dpop'] && authorizationServer?.dpop_signing_alg_values_supported?.includes(values.alg)) {
    const dpopKey = await generateKey(values.alg)
    keys.push(dpopKey.privateJwk)
    dpop = { signer: { method: 'jwk', alg: values.alg, publicJwk: dpopKey.publicJwk } }
  }
  const grant = offer.grants?.['urn:ietf:params:oauth:grant-type:pre-authorized_code']
  if (!grant) throw new Error('the harness wallet takes only the pre-authorized code flow')
  if (grant.tx_code && !values['tx-code']) throw new Error('the offer asks for a transaction code: pass --tx-code')
  const token = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer,
    issuerMetadata,
    txCode: grant.tx_code ? values['tx-code'] : undefined,
    dpop,
  })

  // 3. one request per offered configuration, each with `batch` fresh keys
  const received = []
  let dpopState = token.dpop
  for (const configurationId of offer.credential_configuration_ids) {
    const configuration = issuerMetadata.credentialIssuer.credential_configurations_supported[configurationId]
    // one fresh c_nonce per Credential Request, shared by all its proofs (the OpenID
    // WG's answer for batches: the wallet uses a c_nonce until it is given a new one)
    const freshNonce = async () =>
      issuerMetadata.credentialIssuer.nonce_endpoint
        ? (await client.requestNonce({ issuerMetadata })).c_nonce
        : token.accessTokenResponse.c_nonce
    const shared = await freshNonce()
    const { holderKeys, jwts } = await proveKeys({
      client, issuerMetadata, configurationId, alg: values.alg, count: batch, keys,
      nonceFor: (i) => (values['nonce-per-proof'] && i > 0 ? freshNonce() : shared),
    })
    const response = await client.retrieveCredentials({
      issuerMetadata,
      accessToken: token.accessTokenResponse.access_token,
      credentialConfigurationId: configurationId,
      dpop: dpopState,
      proofs: { jwt: jwts },
    })
    dpopState = response.dpop ?? dpopState
    const body = response.credentialResponse
    if (!Array.isArray(body.credentials) || body.credentials.length === 0) {
      throw new Error(`no credentials in the response for ${configurationId}: ${JSON.stringify(body).slice(0, 300)}`)
    }
    if (body.credentials.length !== holderKeys.length) throw new Error(`asked for ${holderKeys.length} credentials, got ${body.credentials.length}`)

    // 4. check each credential: issuer signature and binding to one of our keys
    for (const [index, entry] of body.credentials.entries()) {
      const credential = entry.credential
      const holderKey = holderKeys[index]
      let checked
      if (configuration.format === 'dc+sd-jwt') {
        const verified = await verifySdJwtVc(credential, { trustedIssuers: values['trust-issuer'] })
        const boundTo = holderKeys.findIndex((k) => jwkEquals(verified.holderJwk, k.publicJwk))
        if (boundTo < 0) throw new Error('credential cnf.jwk is none of the holder keys')
        checked = { issuer: verified.claims.iss, vct: verified.claims.vct, claims: verified.claims, bound_to_key: boundTo }
      } else if (configuration.format === 'jwt_vc_json') {
        const verified = await verifyJwtVc(credential, { trustedIssuers: values['trust-issuer'] })
        const boundTo = holderKeys.findIndex((k) => didNamesKey(verified.subjectId, k.publicJwk) || (verified.cnf?.jwk && jwkEquals(verified.cnf.jwk, k.publicJwk)))
        if (boundTo < 0) throw new Error('credential subject is none of the holder keys')
        checked = { issuer: verified.issuer, type: verified.vc.type, claims: verified.vc.credentialSubject, bound_to_key: boundTo }
      } else {
        throw new Error(`format ${configuration.format} is not checked by the harness`)
      }
      received.push({
        configuration_id: configurationId,
        format: configuration.format,
        credential,
        holder_private_jwk: holderKey.privateJwk,
        holder_jwk: publicJwkOf(holderKey.publicJwk),
        checked,
      })
    }
  }
  const result = { ok: true, credential_issuer: offer.credential_issuer, dpop: Boolean(dpop), credentials: received }
  if (values.out) fs.writeFileSync(values.out, JSON.stringify(result, null, 2), { mode: 0o600 })
  return result
}

run(main)
