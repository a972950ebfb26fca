import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LocalMetricMap } from '@peerscope/metric-map'

test('placeholder: LocalMetricMap adds', () => {
  const m = new LocalMetricMap()
  assert.equal(m.add('a', 2), 2)
})
