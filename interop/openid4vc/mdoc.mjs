#!/usr/bin/env node
// ISO/IEC 18013-5 mdoc interop on @auth0/mdl, an independent implementation:
// it issues an mdoc, makes a DeviceResponse from an mdoc, and verifies a
// DeviceResponse, so ssi-wallet's credentials.mdoc can be checked against it
// in both directions.
//
//   node mdoc.mjs issue   INPUT.json  {doctype, namespaces, issuer_private_jwk,
//                                      issuer_certificate_pem, device_public_jwk,
//                                      signed, valid_from, valid_until}
//        -> {"ok": true, "mdoc": HEX}  (an encoded MDoc: {version, documents, status})
//   node mdoc.mjs present INPUT.json  {mdoc: HEX, device_private_jwk,
//                                      session_transcript: HEX (tag 24 wrapped),
//                                      fields: [[namespace, element], ...]}
//        -> {"ok": true, "device_response": HEX}
//   node mdoc.mjs verify  INPUT.json  {device_response: HEX, session_transcript: HEX,
//                                      trusted_certificates_pem: [PEM, ...]}
//        -> {"ok": true, "documents": [{doctype, claims}]} or {"ok": false, "error"}
//
// The mdoc given to `present` may be ssi-wallet's IssuerSigned wrapped as an MDoc.

import fs from 'node:fs'
import { DeviceResponse, Document, MDoc, Verifier, parse } from '@auth0/mdl'

const hex = (bytes) => Buffer.from(bytes).toString('hex')
const unhex = (text) => new Uint8Array(Buffer.from(text, 'hex'))

function plain(value) {
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, plain(v)]))
  if (value instanceof Uint8Array) return { bytes: hex(value) }
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map(plain)
  if (value && typeof value === 'object' && typeof value.toJSON === 'function') return value.toJSON()
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  return value
}

async function issue(input) {
  let document = new Document(input.doctype)
  for (const [namespace, values] of Object.entries(input.namespaces)) {
    document = document.addIssuerNameSpace(namespace, values)
  }
  const signed = await document
    .useDigestAlgorithm('SHA-256')
    .addValidityInfo({
      signed: new Date(input.signed),
      validFrom: new Date(input.valid_from),
      validUntil: new Date(input.valid_until),
    })
    .addDeviceKeyInfo({ deviceKey: input.device_public_jwk })
    .sign({
      issuerPrivateKey: input.issuer_private_jwk,
      issuerCertificate: input.issuer_certificate_pem,
      alg: 'ES256',
    })
  return { ok: true, mdoc: hex(new MDoc([signed]).encode()) }
}

async function present(input) {
  const definition = {
    id: 'interop',
    input_descriptors: [
      {
        id: parse(unhex(input.mdoc)).documents[0].docType,
        format: { mso_mdoc: { alg: ['ES256'] } },
        constraints: {
          limit_disclosure: 'required',
          fields: input.fields.map(([namespace, element]) => ({
            path: [`$['${namespace}']['${element}']`],
            intent_to_retain: false,
          })),
        },
      },
    ],
  }
  const response = await DeviceResponse.from(unhex(input.mdoc))
    .usingPresentationDefinition(definition)
    .usingSessionTranscriptBytes(unhex(input.session_transcript))
    .authenticateWithSignature(input.device_private_jwk, 'ES256')
    .sign()
  return { ok: true, device_response: hex(response.encode()) }
}

async function verify(input) {
  const verifier = new Verifier(input.trusted_certificates_pem)
  try {
    const mdoc = await verifier.verify(unhex(input.device_response), {
      encodedSessionTranscript: unhex(input.session_transcript),
    })
    const documents = mdoc.documents.map((document) => ({
      doctype: document.docType,
      claims: Object.fromEntries(
        document.issuerSignedNameSpaces.map((namespace) => [namespace, plain(document.getIssuerNameSpace(namespace))]),
      ),
    }))
    return { ok: true, documents }
  } catch (error) {
    return { ok: false, error: String(error?.message ?? error).slice(0, 2000) }
  }
}

const [command, file] = process.argv.slice(2)
const commands = { issue, present, verify }
if (!commands[command] || !file) {
  console.log(JSON.stringify({ ok: false, error: 'usage: node mdoc.mjs issue|present|verify INPUT.json' }))
  process.exit(2)
}
try {
  const result = await commands[command](JSON.parse(fs.readFileSync(file, 'utf8')))
  console.log(JSON.stringify(result))
  process.exit(result.ok ? 0 : 1)
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error).slice(0, 2000) }))
  process.exit(1)
}
