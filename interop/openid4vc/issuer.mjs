#!/usr/bin/env node
// An OpenID4VCI 1.0 credential issuer (and its OAuth 2.0 authorization server) built
// on @openid4vc/openid4vci and @openid4vc/oauth2, for testing a wallet against it.
//
//   node issuer.mjs [--port 0] [--tx-code 493536] [--by-value] [--require-dpop]
//                   [--configurations ResidencePermitSdJwt,ResidencePermitJwtVcJson]
//                   [--exit-after N] [--timeout 120]
//
// Prints one JSON document per line on stdout: first {"event":"ready", offer_uri,
// credential_issuer, issuer_did, tx_code, ...}, then one line per token and per
// credential response. It issues a pre-authorized-code offer for the configurations
// asked for; every key proof is checked (signature, audience, fresh single-use nonce
// from the nonce endpoint, iat) and each credential is bound to its proof's key.
// Exits after --exit-after credential responses, on SIGTERM, or after --timeout s.

import crypto from 'node:crypto'
import {
  Oauth2AuthorizationServer,
  Oauth2ResourceServer,
  preAuthorizedCodeGrantIdentifier,
  SupportedAuthenticationScheme,
} from '@openid4vc/oauth2'
import { Openid4vciIssuer, Openid4vciVersion } from '@openid4vc/openid4vci'
import { args, decodeJwtUnverified, didJwk, emit, formOf, generateKey, headersOf, makeCallbacks, publicJwkOf, run, runUntilStopped, serve } from './lib/common.mjs'
import { issueJwtVcJson, issueSdJwtVc } from './lib/formats.mjs'

export const VCT = 'https://interop.ssi-wallet.test/ResidencePermit'
export const CLAIMS = {
  given_name: 'Amina',
  family_name: 'Haddad',
  birthdate: '1994-03-17',
  nationality: 'SY',
  permit_type: 'residence',
}
const NONCE_SECONDS = 300

const CONFIGURATIONS = {
  ResidencePermitSdJwt: {
    format: 'dc+sd-jwt',
    vct: VCT,
    scope: 'ResidencePermitSdJwt',
    cryptographic_binding_methods_supported: ['jwk'],
    credential_signing_alg_values_supported: ['ES256'],
    proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['ES256', 'EdDSA'] } },
    credential_metadata: {
      display: [{ name: 'Residence permit (interop harness)', locale: 'en' }],
      claims: Object.keys(CLAIMS).map((name) => ({ path: [name] })),
    },
  },
  ResidencePermitJwtVcJson: {
    format: 'jwt_vc_json',
    scope: 'ResidencePermitJwtVcJson',
    credential_definition: { type: ['VerifiableCredential', 'ResidencePermit'] },
    cryptographic_binding_methods_supported: ['did:jwk'],
    credential_signing_alg_values_supported: ['ES256'],
    proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['ES256', 'EdDSA'] } },
    credential_metadata: { display: [{ name: 'Residence permit (interop harness, JWT)', locale: 'en' }] },
  },
}

async function main() {
  const { values } = args({
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    'tx-code': { type: 'string' },
    'by-value': { type: 'boolean', default: false },
    'require-dpop': { type: 'boolean', default: false },
    configurations: { type: 'string', default: Object.keys(CONFIGURATIONS).join(',') },
    'exit-after': { type: 'string', default: '0' },
    timeout: { type: 'string', default: '120' },
  })
  const offered = values.configurations.split(',').filter(Boolean)
  for (const id of offered) if (!CONFIGURATIONS[id]) throw new Error(`unknown configuration ${id}`)

  const issuerKey = await generateKey('ES256')
  const accessTokenKey = await generateKey('ES256')
  const issuerDid = didJwk(issuerKey.publicJwk)
  const { callbacks } = makeCallbacks({ keys: [issuerKey.privateJwk, accessTokenKey.privateJwk] })

  const issuer = new Openid4vciIssuer({ callbacks })
  const authorizationServer = new Oauth2AuthorizationServer({ callbacks })
  const resourceServer = new Oauth2ResourceServer({ callbacks })

  const state = {
    preAuthorizedCodes: new Map(), // code -> { configurationIds, txCode, used }
    nonces: new Map(), // c_nonce -> expiry (ms)
    responses: 0,
  }
  const exitAfter = Number(values['exit-after'])

  // The port is known only once listening: routes read `base` lazily.
  let base
  let issuerMetadata
  const routes = {
    'GET /.well-known/openid-credential-issuer': async () => ({ json: issuerMetadata.credentialIssuer }),
    'GET /.well-known/oauth-authorization-server': async () => ({ json: issuerMetadata.authorizationServers[0] }),
    'GET /jwks': async () => ({ json: { keys: [{ ...publicJwkOf(accessTokenKey.publicJwk), kid: 'at-1', alg: 'ES256', use: 'sig' }] } }),
    'POST /nonce': async () => {
      const cNonce = crypto.randomBytes(16).toString('base64url')
      state.nonces.set(cNonce, Date.now() + NONCE_SECONDS * 1000)
      return { json: issuer.createNonceResponse({ cNonce, cNonceExpiresIn: NONCE_SECONDS }) }
    },
    'POST /token': async (req, body) => {
      const request = { headers: headersOf(req), method: 'POST', url: `${base}/token` }
      const parsed = authorizationServer.parseAccessTokenRequest({ accessTokenRequest: formOf(body), request })
      if (parsed.grant.grantType !== preAuthorizedCodeGrantIdentifier) {
        return { status: 400, json: { error: 'unsupported_grant_type' } }
      }
      const offer = state.preAuthorizedCodes.get(parsed.grant.preAuthorizedCode)
      if (!offer || offer.used) return { status: 400, json: { error: 'invalid_grant', error_description: 'unknown or used pre-authorized_code' } }
      const { dpop } = await authorizationServer.verifyPreAuthorizedCodeAccessTokenRequest({
        authorizationServerMetadata: issuerMetadata.authorizationServers[0],
        grant: parsed.grant,
        accessTokenRequest: parsed.accessTokenRequest,
        request,
        expectedPreAuthorizedCode: parsed.grant.preAuthorizedCode,
        expectedTxCode: offer.txCode,
        dpop: { required: values['require-dpop'], ...parsed.dpop },
      })
      offer.used = true
      const response = await authorizationServer.createAccessTokenResponse({
        audience: base,
        authorizationServer: base,
        signer: { method: 'jwk', alg: 'ES256', publicJwk: { ...publicJwkOf(accessTokenKey.publicJwk), kid: 'at-1' }, kid: 'at-1' },
        subject: parsed.grant.preAuthorizedCode,
        expiresInSeconds: 300,
        scope: offer.configurationIds.join(' '),
        dpop,
      })
      emit({ event: 'token', dpop: Boolean(dpop), tx_code_checked: offer.txCode !== undefined })
      return { json: response }
    },
    'POST /credential': async (req, body) => {
      const { tokenPayload, dpop } = await resourceServer.verifyResourceRequest({
        authorizationServers: issuerMetadata.authorizationServers,
        resourceServer: base,
        request: { headers: headersOf(req), method: 'POST', url: `${base}/credential` },
        allowedAuthenticationSchemes: values['require-dpop']
          ? [SupportedAuthenticationScheme.DPoP]
          : [SupportedAuthenticationScheme.DPoP, SupportedAuthenticationScheme.Bearer],
      })
      const offer = state.preAuthorizedCodes.get(tokenPayload.sub)
      const parsed = issuer.parseCredentialRequest({ issuerMetadata, credentialRequest: JSON.parse(body) })
      const configurationId = parsed.credentialConfigurationId
      if (!configurationId || !offer?.configurationIds.includes(configurationId)) {
        return { status: 400, json: { error: 'invalid_credential_request', error_description: 'credential_configuration_id not granted by this token' } }
      }
      const jwts = parsed.proofs?.jwt
      if (!jwts?.length) return { status: 400, json: { error: 'invalid_proof', error_description: 'jwt proofs required' } }
      if (jwts.length > 10) return { status: 400, json: { error: 'invalid_proof', error_description: 'batch_size is 10' } }
      const holderKeys = []
      for (const jwt of jwts) {
        const claimed = decodeJwtUnverified(jwt).payload.nonce
        const expiry = state.nonces.get(claimed)
        if (!expiry || expiry < Date.now()) return { status: 400, json: { error: 'invalid_nonce', error_description: 'c_nonce unknown, used or expired' } }
        const verified = await issuer.verifyCredentialRequestJwtProof({ issuerMetadata, jwt, expectedNonce: claimed, nonceExpiresAt: new Date(expiry) })
        if (verified.signer.method !== 'jwk') return { status: 400, json: { error: 'invalid_proof', error_description: 'proof must carry a jwk' } }
        holderKeys.push(verified.signer.publicJwk)
      }
      for (const jwt of jwts) state.nonces.delete(decodeJwtUnverified(jwt).payload.nonce)
      const configuration = CONFIGURATIONS[configurationId]
      const credentials = []
      for (const holderJwk of holderKeys) {
        const credential = configuration.format === 'dc+sd-jwt'
          ? await issueSdJwtVc({ issuerPrivateJwk: issuerKey.privateJwk, issuerDid, holderJwk, vct: VCT, claims: CLAIMS })
          : await issueJwtVcJson({ issuerPrivateJwk: issuerKey.privateJwk, issuerDid, holderJwk, types: ['ResidencePermit'], claims: CLAIMS })
        credentials.push({ credential })
      }
      state.responses += 1
      emit({ event: 'issued', configuration_id: configurationId, format: configuration.format, dpop: Boolean(dpop), holder_jwks: holderKeys, credentials: credentials.map((c) => c.credential) })
      if (exitAfter && state.responses >= exitAfter) setTimeout(() => process.exit(0), 200)
      return { json: issuer.createCredentialResponse({ credentialRequest: parsed, credentials }) }
    },
  }

  const server = await serve({ host: values.host, port: Number(values.port), routes, log: emit })
  base = `http://${values.host}:${server.address().port}`

  const authorizationServerMetadata = authorizationServer.createAuthorizationServerMetadata({
    issuer: base,
    token_endpoint: `${base}/token`,
    jwks_uri: `${base}/jwks`,
    grant_types_supported: [preAuthorizedCodeGrantIdentifier],
    dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
    'pre-authorized_grant_anonymous_access_supported': true,
  })
  const credentialIssuer = issuer.createCredentialIssuerMetadata({
    credential_issuer: base,
    credential_endpoint: `${base}/credential`,
    nonce_endpoint: `${base}/nonce`,
    batch_credential_issuance: { batch_size: 10 },
    credential_configurations_supported: Object.fromEntries(offered.map((id) => [id, CONFIGURATIONS[id]])),
    display: [{ name: 'OpenID4VC interop harness issuer', locale: 'en' }],
  })
  issuerMetadata = {
    credentialIssuer,
    authorizationServers: [authorizationServerMetadata],
    originalDraftVersion: Openid4vciVersion.V1,
    knownCredentialConfigurations: issuer.getKnownCredentialConfigurationsSupported(credentialIssuer),
  }

  const preAuthorizedCode = crypto.randomBytes(24).toString('base64url')
  const txCode = values['tx-code']
  state.preAuthorizedCodes.set(preAuthorizedCode, { configurationIds: offered, txCode, used: false })
  const offerId = crypto.randomUUID()
  const created = await issuer.createCredentialOffer({
    issuerMetadata,
    credentialConfigurationIds: offered,
    grants: {
      [preAuthorizedCodeGrantIdentifier]: {
        'pre-authorized_code': preAuthorizedCode,
        ...(txCode ? { tx_code: { input_mode: /^\d+$/.test(txCode) ? 'numeric' : 'text', length: txCode.length, description: 'code sent by the harness' } } : {}),
      },
    },
    credentialOfferScheme: 'openid-credential-offer://',
    ...(values['by-value'] ? {} : { credentialOfferUri: `${base}/offers/${offerId}` }),
  })
  routes[`GET /offers/${offerId}`] = async () => ({ json: created.credentialOfferObject })

  emit({
    event: 'ready',
    credential_issuer: base,
    offer_uri: created.credentialOffer,
    offer: created.credentialOfferObject,
    tx_code: txCode ?? null,
    issuer_did: issuerDid,
    issuer_jwk: issuerKey.publicJwk,
    configurations: offered,
  })

  await runUntilStopped(server, Number(values.timeout))
}

run(main)
