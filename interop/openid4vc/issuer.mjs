#!/usr/bin/env node
// An OpenID4VCI 1.0 credential issuer (and its OAuth 2.0 authorization server) built
// on @openid4vc/openid4vci and @openid4vc/oauth2, for testing a wallet against it.
//
//   node issuer.mjs [--port 0] [--tx-code 493536] [--by-value] [--require-dpop]
//                   [--grant pre-authorized_code|authorization_code]
//                   [--configurations ResidencePermitSdJwt,ResidencePermitJwtVcJson]
//                   [--exit-after N] [--timeout 120]
//
// Prints one JSON document per line on stdout: first {"event":"ready", offer_uri,
// credential_issuer, issuer_did, tx_code, ...}, then one line per PAR request, token
// and credential response. It issues an offer for the configurations asked for, with
// the pre-authorized code grant, or with --grant authorization_code the authorization
// code grant: an `issuer_state`, pushed authorization requests (RFC 9126, required)
// with PKCE S256 (required), an authorization endpoint that, standing in for the
// person's sign-in, redirects at once with a code for the pushed request whose
// issuer_state is the offer's, and the code exchanged at the token endpoint (PKCE
// verifier, redirect_uri, client_id, and the DPoP key given at PAR, if any, checked;
// `authorization_details` asked for are answered with `credential_identifiers`).
// Every key proof is checked (signature, audience, fresh single-use nonce from the
// nonce endpoint, iat) and each credential is bound to its proof's key.
// Exits after --exit-after credential responses, on SIGTERM, or after --timeout s.

import crypto from 'node:crypto'
import {
  authorizationCodeGrantIdentifier,
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
    grant: { type: 'string', default: preAuthorizedCodeGrantIdentifier },
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

  if (![preAuthorizedCodeGrantIdentifier, authorizationCodeGrantIdentifier].includes(values.grant)) throw new Error(`unknown grant ${values.grant}`)
  const state = {
    preAuthorizedCodes: new Map(), // code -> { configurationIds, txCode, used }
    subjects: new Map(), // access token `sub` -> { configurationIds, identifiers? }
    nonces: new Map(), // c_nonce -> expiry (ms)
    responses: 0,
  }
  const exitAfter = Number(values['exit-after'])

  /** What the package's token request checks take from a parsed request. */
  const tokenRequest = (parsed, request) => ({
    authorizationServerMetadata: issuerMetadata.authorizationServers[0],
    grant: parsed.grant,
    accessTokenRequest: parsed.accessTokenRequest,
    request,
  })

  /** A token response: a JWT access token (5 minutes) signed by our access token key. */
  const accessTokenResponse = (options) =>
    authorizationServer.createAccessTokenResponse({
      audience: base,
      authorizationServer: base,
      signer: { method: 'jwk', alg: 'ES256', publicJwk: { ...publicJwkOf(accessTokenKey.publicJwk), kid: 'at-1' }, kid: 'at-1' },
      expiresInSeconds: 300,
      ...options,
    })

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
      if (parsed.grant.grantType === authorizationCodeGrantIdentifier && values.grant === authorizationCodeGrantIdentifier) {
        return await authorizationCodeToken(parsed, request)
      }
      if (parsed.grant.grantType !== preAuthorizedCodeGrantIdentifier || values.grant !== preAuthorizedCodeGrantIdentifier) {
        return { status: 400, json: { error: 'unsupported_grant_type' } }
      }
      const offer = state.preAuthorizedCodes.get(parsed.grant.preAuthorizedCode)
      if (!offer || offer.used) return { status: 400, json: { error: 'invalid_grant', error_description: 'unknown or used pre-authorized_code' } }
      const { dpop } = await authorizationServer.verifyPreAuthorizedCodeAccessTokenRequest({
        ...tokenRequest(parsed, request),
        expectedPreAuthorizedCode: parsed.grant.preAuthorizedCode,
        expectedTxCode: offer.txCode,
        dpop: { required: values['require-dpop'], ...parsed.dpop },
      })
      offer.used = true
      state.subjects.set(parsed.grant.preAuthorizedCode, offer)
      const response = await accessTokenResponse({ subject: parsed.grant.preAuthorizedCode, scope: offer.configurationIds.join(' '), dpop })
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
      const offer = state.subjects.get(tokenPayload.sub)
      const parsed = issuer.parseCredentialRequest({ issuerMetadata, credentialRequest: JSON.parse(body) })
      // OpenID4VCI 1.0 8.2: credential_identifier when the token named identifiers, else
      // credential_configuration_id
      if (offer?.identifiers && !parsed.credentialIdentifier) {
        return { status: 400, json: { error: 'invalid_credential_request', error_description: 'this token came with credential_identifiers: use credential_identifier' } }
      }
      if (!offer?.identifiers && parsed.credentialIdentifier) {
        return { status: 400, json: { error: 'invalid_credential_request', error_description: 'no credential_identifiers were issued with this token' } }
      }
      const configurationId = offer?.identifiers ? offer.identifiers[parsed.credentialIdentifier] : parsed.credentialConfigurationId
      if (!configurationId || !offer?.configurationIds.includes(configurationId)) {
        return { status: 400, json: { error: offer?.identifiers ? 'unknown_credential_identifier' : 'invalid_credential_request', error_description: 'credential not granted by this token' } }
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

  // -- the authorization code grant (--grant authorization_code) ----------------------
  const issuerState = crypto.randomBytes(24).toString('base64url')
  const pushed = new Map() // request_uri -> { request, dpopJkt, expires }
  const codes = new Map() // code -> { request, dpopJkt, expires }
  const refuse = (error, description) => ({ status: 400, json: { error, error_description: description } })

  routes['POST /par'] = async (req, body) => {
    const request = { headers: headersOf(req), method: 'POST', url: `${base}/par` }
    const parsed = await authorizationServer.parsePushedAuthorizationRequest({ request, authorizationRequest: formOf(body) })
    const authorizationRequest = parsed.authorizationRequest
    if (authorizationRequest.response_type !== 'code') return refuse('unsupported_response_type', 'response_type must be code')
    if (!authorizationRequest.redirect_uri) return refuse('invalid_request', 'redirect_uri is required')
    if (authorizationRequest.code_challenge_method !== 'S256' || !authorizationRequest.code_challenge) return refuse('invalid_request', 'PKCE with S256 is required')
    if (authorizationRequest.issuer_state !== issuerState) return refuse('invalid_request', 'unknown issuer_state')
    const { dpop } = await authorizationServer.verifyPushedAuthorizationRequest({
      authorizationServerMetadata: issuerMetadata.authorizationServers[0],
      authorizationRequest,
      request,
      dpop: { required: values['require-dpop'], jwt: parsed.dpop?.jwt, jwkThumbprint: parsed.dpop?.jwkThumbprint },
    })
    let details
    if (typeof authorizationRequest.authorization_details === 'string') {
      details = JSON.parse(authorizationRequest.authorization_details)
      if (!Array.isArray(details) || !details.every((d) => d?.type === 'openid_credential' && offered.includes(d.credential_configuration_id))) {
        return refuse('invalid_authorization_details', 'each entry names an offered configuration')
      }
    }
    const scoped = (authorizationRequest.scope ?? '').split(' ').filter((s) => offered.includes(s))
    const configurationIds = details ? details.map((d) => d.credential_configuration_id) : scoped
    if (configurationIds.length === 0) return refuse('invalid_scope', 'ask for an offered configuration')
    const requestUri = `urn:ietf:params:oauth:request_uri:${crypto.randomBytes(24).toString('base64url')}`
    pushed.set(requestUri, { request: authorizationRequest, configurationIds, byDetails: Boolean(details), dpopJkt: dpop?.jwkThumbprint, expires: Date.now() + 60_000 })
    emit({ event: 'par', dpop_jkt: dpop?.jwkThumbprint ?? null, authorization_details: details ?? null, scope: authorizationRequest.scope ?? null, state: authorizationRequest.state ?? null })
    return { status: 201, json: authorizationServer.createPushedAuthorizationResponse({ requestUri, expiresInSeconds: 60 }).pushedAuthorizationResponse }
  }

  // the person's sign-in is not simulated: the pushed request's issuer_state names them
  routes['GET /authorize'] = async (req, body, url) => {
    const requestUri = url.searchParams.get('request_uri')
    const entry = pushed.get(requestUri)
    pushed.delete(requestUri)
    if (!entry || entry.expires < Date.now()) return refuse('invalid_request', 'request_uri unknown, used or expired')
    if (url.searchParams.get('client_id') !== entry.request.client_id) return refuse('invalid_request', 'request_uri pushed by another client')
    const code = crypto.randomBytes(24).toString('base64url')
    codes.set(code, { ...entry, expires: Date.now() + 60_000 })
    const location = new URL(entry.request.redirect_uri)
    location.searchParams.set('code', code)
    if (entry.request.state !== undefined) location.searchParams.set('state', entry.request.state)
    location.searchParams.set('iss', base) // RFC 9207
    return { status: 302, headers: { location: location.href } }
  }

  async function authorizationCodeToken(parsed, request) {
    const entry = codes.get(parsed.grant.code)
    codes.delete(parsed.grant.code)
    if (!entry || entry.expires < Date.now()) return refuse('invalid_grant', 'code unknown, used or expired')
    if (parsed.accessTokenRequest.redirect_uri !== entry.request.redirect_uri) return refuse('invalid_grant', 'redirect_uri differs from the authorization request')
    if (parsed.accessTokenRequest.client_id !== entry.request.client_id) return refuse('invalid_grant', 'code issued to another client')
    const { dpop } = await authorizationServer.verifyAuthorizationCodeAccessTokenRequest({
      ...tokenRequest(parsed, request),
      expectedCode: parsed.grant.code,
      pkce: { codeVerifier: parsed.pkceCodeVerifier, codeChallenge: entry.request.code_challenge, codeChallengeMethod: 'S256' },
      dpop: { required: values['require-dpop'] || Boolean(entry.dpopJkt), jwt: parsed.dpop?.jwt, expectedJwkThumbprint: entry.dpopJkt },
    })
    const subject = crypto.randomBytes(16).toString('base64url')
    const session = { configurationIds: entry.configurationIds }
    let authorizationDetails
    if (entry.byDetails) {
      // OpenID4VCI 1.0 6.2: authorization_details asked for are answered with identifiers
      session.identifiers = {}
      authorizationDetails = entry.configurationIds.map((id) => {
        const identifier = `${id}-${crypto.randomBytes(6).toString('hex')}`
        session.identifiers[identifier] = id
        return { type: 'openid_credential', credential_configuration_id: id, credential_identifiers: [identifier] }
      })
    }
    state.subjects.set(subject, session)
    const response = await accessTokenResponse({
      subject,
      clientId: entry.request.client_id,
      scope: entry.configurationIds.join(' '),
      dpop,
      additionalAccessTokenResponsePayload: authorizationDetails ? { authorization_details: authorizationDetails } : undefined,
    })
    emit({ event: 'token', grant: authorizationCodeGrantIdentifier, dpop: Boolean(dpop), pkce_checked: true, dpop_bound_at_par: Boolean(entry.dpopJkt) })
    return { json: response }
  }

  const server = await serve({ host: values.host, port: Number(values.port), routes, log: emit })
  base = `http://${values.host}:${server.address().port}`

  const byCode = values.grant === authorizationCodeGrantIdentifier
  const authorizationServerMetadata = authorizationServer.createAuthorizationServerMetadata({
    issuer: base,
    token_endpoint: `${base}/token`,
    jwks_uri: `${base}/jwks`,
    grant_types_supported: [values.grant],
    dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
    ...(byCode
      ? {
          authorization_endpoint: `${base}/authorize`,
          pushed_authorization_request_endpoint: `${base}/par`,
          require_pushed_authorization_requests: true,
          code_challenge_methods_supported: ['S256'],
          response_types_supported: ['code'],
          authorization_response_iss_parameter_supported: true,
        }
      : { 'pre-authorized_grant_anonymous_access_supported': true }),
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
    grants: byCode
      ? { [authorizationCodeGrantIdentifier]: { issuer_state: issuerState } }
      : {
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
