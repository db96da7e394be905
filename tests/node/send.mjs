// Drives the official @segment/analytics-node SDK against a Touchpath server.
// Usage: node send.mjs <host> <writeKey>   (prints one JSON line: the messageIds it sent)
import { Analytics } from '@segment/analytics-node'

const [host, writeKey] = process.argv.slice(2)
if (!host || !writeKey) {
  console.error('usage: node send.mjs <host> <writeKey>')
  process.exit(2)
}
const analytics = new Analytics({ writeKey, host, path: '/v1/batch', flushAt: 3, maxRetries: 3 })
const sent = {}
const failed = []
analytics.on('http_request', () => {})
analytics.on('error', (err) => failed.push(String(err && err.reason ? err.reason : err)))
const remember = (type) => (err, ctx) => {
  if (err) failed.push(`${type}: ${err}`)
  else sent[type] = ctx.event.messageId
}
const ts = new Date('2026-11-20T09:30:00Z')
analytics.track({ userId: 'n1', event: 'Checkout Started', properties: { value: 99.5 },
  context: { campaign: { source: 'newsletter', medium: 'email' } }, timestamp: ts }, remember('track'))
analytics.identify({ userId: 'n1', anonymousId: 'na1', traits: { email: 'n1@example.com' } }, remember('identify'))
analytics.page({ userId: 'n1', name: 'Checkout', properties: { url: 'https://shop.test/checkout' } }, remember('page'))
analytics.screen({ userId: 'n1', name: 'Basket', properties: { items: 3 } }, remember('screen'))
analytics.group({ userId: 'n1', groupId: 'ng1', traits: { name: 'Node Co' } }, remember('group'))
analytics.alias({ userId: 'n1', previousId: 'na1' }, remember('alias'))
await analytics.closeAndFlush({ timeout: 20000 })
console.log(JSON.stringify({ sent, failed }))
