#!/usr/bin/env node
// node-client: one X-Road SOAP 4.0 call with node-soap (the `soap` npm
// package, pinned in package-lock.json), as an X-Road consumer would make it.
// e2e/soapclients_test.go runs it against govbus.
//
// Usage: node node-client.js '<spec as JSON>'
//   spec = {
//     wsdl: path or URL of the WSDL,
//     endpoint: URL to send to (overrides the WSDL's soap:address),
//     operation: operation name, e.g. "testService",
//     args: the operation's body, e.g. {responseBodySize: "5"},
//     client:  {xRoadInstance, memberClass, memberCode, subsystemCode},
//     service: {xRoadInstance, memberClass, memberCode, subsystemCode, serviceCode, serviceVersion?},
//     id, userId?, protocolVersion? (default "4.0"),
//     httpHeaders: {Authorization: "Bearer ...", "X-Road-Purpose": "..."}
//   }
// Prints one JSON object on stdout and exits 0 whenever the call was made:
//   {ok: true, status, result, responseHeader, rawRequest, rawResponse}
//   {ok: false, kind: "fault", status, fault: {faultcode, faultstring, detail}, rawResponse}
//   {ok: false, kind: "transport" | "client", message}
// Exits 2 when the spec is unusable or node-soap cannot load the WSDL.
'use strict';

const soap = require('soap');

const XRD = 'http://x-road.eu/xsd/xroad.xsd';
const ID = 'http://x-road.eu/xsd/identifiers';

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

// identifier renders xrd:client or xrd:service with id:objectType.
function identifier(name, objectType, id) {
  const parts = ['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode', 'serviceCode', 'serviceVersion'];
  let xml = `<xrd:${name} xmlns:xrd="${XRD}" xmlns:id="${ID}" id:objectType="${objectType}">`;
  for (const p of parts) {
    if (id[p] !== undefined && id[p] !== '') {
      xml += `<id:${p}>${esc(id[p])}</id:${p}>`;
    }
  }
  return xml + `</xrd:${name}>`;
}

function field(name, value) {
  return `<xrd:${name} xmlns:xrd="${XRD}">${esc(value)}</xrd:${name}>`;
}

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function main() {
  let spec;
  try {
    spec = JSON.parse(process.argv[2] || '');
  } catch (e) {
    process.stderr.write('usage: node node-client.js \'<spec as JSON>\': ' + e.message + '\n');
    process.exit(2);
  }
  let client;
  try {
    client = await soap.createClientAsync(spec.wsdl, { endpoint: spec.endpoint });
  } catch (e) {
    out({ ok: false, kind: 'wsdl', message: String(e && e.message || e) });
    process.exit(2);
  }
  client.addSoapHeader(identifier('client', spec.client.subsystemCode ? 'SUBSYSTEM' : 'MEMBER', spec.client));
  client.addSoapHeader(identifier('service', 'SERVICE', spec.service));
  if (spec.userId) {
    client.addSoapHeader(field('userId', spec.userId));
  }
  client.addSoapHeader(field('id', spec.id));
  client.addSoapHeader(field('protocolVersion', spec.protocolVersion || '4.0'));
  for (const [k, v] of Object.entries(spec.httpHeaders || {})) {
    client.addHttpHeader(k, v);
  }
  const method = client[spec.operation + 'Async'];
  if (typeof method !== 'function') {
    out({ ok: false, kind: 'client', message: `no operation ${spec.operation} in the WSDL (has: ${Object.keys(client.describe()).join(', ')})` });
    process.exit(2);
  }
  try {
    const [result, rawResponse, responseHeader, rawRequest] = await method.call(client, spec.args || {});
    out({ ok: true, status: 200, result, responseHeader, rawRequest, rawResponse });
  } catch (e) {
    const body = e && e.root && e.root.Envelope && e.root.Envelope.Body;
    if (body && body.Fault) {
      const f = body.Fault;
      out({
        ok: false, kind: 'fault', status: e.response && e.response.status,
        fault: { faultcode: f.faultcode, faultstring: f.faultstring, detail: f.detail },
        rawResponse: e.body,
      });
    } else {
      out({
        ok: false, kind: e && e.response ? 'http' : 'transport',
        status: e && e.response && e.response.status, message: String(e && e.message || e),
        rawResponse: e && e.body,
      });
    }
  }
}

main();
