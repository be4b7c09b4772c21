#!/usr/bin/env node
// A SECOND independent OpenID4VCI wallet: Sphereon's @sphereon/oid4vci-client
// (OpenID4VCIClientV1_0_15, which implements OpenID4VCI draft 15), sharing no code
// with the OpenWallet Foundation packages the other programs use. It resolves a
// credential offer, reads the issuer's metadata, takes the pre-authorized code flow
// (with the transaction code; with DPoP when --dpop), gets a c_nonce from the nonce
// endpoint and requests one credential with a `jwt` key proof.
//
//   node sphereon-wallet-receive.mjs OFFER_URI [--tx-code CODE] [--dpop]
//
// Prints {"ok": true, stages, credential, holder_jwk, http} or {"ok": false, error,
// stage, stages, http}: `stages` lists what succeeded (offer, metadata, token,
// nonce, credential), `http` every request the package made (method, URL path,
// status, and the answer's JSON body when the status is 400 or more), recorded by
// wrapping the package's fetch (node-fetch, through cross-fetch).

import { createRequire } from 'node:module'
import * as jose from 'jose'
import { args, emit } from './lib/common.mjs'

const http = []
// cross-fetch (which the Sphereon packages import) takes node-fetch's `default` when
// it loads: wrap it before the packages are imported, to record what they send.
const require = createRequire(import.meta.url)
const nodeFetch = require('node-fetch')
const realFetch = nodeFetch.default ?? nodeFetch
nodeFetch.default = async (url, options = {}) => {
  const target = new URL(String(url))
  if (!['127.0.0.1', 'localhost'].includes(target.hostname)) throw new Error(`refusing ${target.origin}: loopback only`)
  const response = await realFetch(url, options)
  const entry = { method: options.method ?? 'GET', path: target.pathname, status: response.status }
  const headers = new Headers(options.headers ?? {})
  if (headers.has('dpop')) entry.dpop = true
  if (response.status >= 400) {
    try {
      entry.body = await response.clone().json()
    } catch {
      entry.body = null
    }
  }
  http.push(entry)
  return response
}
const { OpenID4VCIClientV1_0_15 } = await import('@sphereon/oid4vci-client')

async function main() {
  const { values, positionals } = args({
    'tx-code': { type: 'string' },
    dpop: { type: 'boolean', default: false },
  })
  if (positionals.length !== 1) throw new Error('usage: sphereon-wallet-receive.mjs OFFER_URI [--tx-code CODE] [--dpop]')
  const stages = []
  let stage = 'offer'
  try {
    const holder = await jose.generateKeyPair('ES256', { extractable: true })
    const holderJwk = await jose.exportJWK(holder.publicKey)
    const signCallback = async (jwt) => new jose.SignJWT(jwt.payload).setProtectedHeader({ ...jwt.header, alg: 'ES256' }).sign(holder.privateKey)

    let createDPoPOpts
    if (values.dpop) {
      const dpopKey = await jose.generateKeyPair('ES256', { extractable: true })
      createDPoPOpts = {
        jwtIssuer: { alg: 'ES256', jwk: await jose.exportJWK(dpopKey.publicKey) },
        jwtPayloadProps: {},
        createJwtCallback: async (_issuer, jwt) => new jose.SignJWT(jwt.payload).setProtectedHeader(jwt.header).sign(dpopKey.privateKey),
      }
    }

    // 1. the offer and 2. the metadata (both read by fromURI)
    const client = await OpenID4VCIClientV1_0_15.fromURI({ uri: positionals[0], clientId: 'sphereon-interop-harness', retrieveServerMetadata: true })
    stages.push('offer', 'metadata')
    const configurationIds = client.getCredentialOfferConfigurationIds()
    const configurationId = configurationIds[0]
    const configuration = client.getCredentialsSupported()[configurationId]
    if (!configuration) throw new Error(`the metadata has no configuration ${configurationId}`)
    // the package signs DPoP proofs only for the algorithms its caller says the server takes
    const dpopAlgs = client.endpointMetadata.authorizationServerMetadata?.dpop_signing_alg_values_supported ?? []
    if (createDPoPOpts) {
      if (!dpopAlgs.includes('ES256')) throw new Error('the authorization server does not take ES256 DPoP proofs')
      createDPoPOpts.dPoPSigningAlgValuesSupported = dpopAlgs
    }

    // 3. the token
    stage = 'token'
    const token = await client.acquireAccessToken({ ...(values['tx-code'] ? { pin: values['tx-code'] } : {}), createDPoPOpts })
    stages.push('token')

    // 4. a c_nonce from the nonce endpoint
    stage = 'nonce'
    if (!client.hasNonceEndpoint()) throw new Error('the issuer metadata names no nonce endpoint')
    const cNonce = await client.acquireNonce()
    stages.push('nonce')

    // 5. the credential, with a jwt key proof
    stage = 'credential'
    const response = await client.acquireCredentials({
      credentialConfigurationId: configurationId,
      format: configuration.format,
      proofCallbacks: { signCallback },
      jwk: holderJwk,
      alg: 'ES256',
      createDPoPOpts,
    })
    stages.push('credential')
    const credential = response.credentials?.[0]?.credential ?? response.credential
    return {
      ok: true,
      version: client.version(),
      configuration_id: configurationId,
      format: configuration.format,
      token_type: token.token_type,
      c_nonce: Boolean(cNonce),
      credential,
      holder_jwk: holderJwk,
      stages,
      http,
    }
  } catch (error) {
    emit({ ok: false, error: String(error?.message ?? error), stage, stages, http })
    process.exit(1)
  }
}

main().then(emit, (error) => {
  emit({ ok: false, error: String(error?.message ?? error), stages: [], http })
  process.exit(1)
})
