import { LocalMetricMap } from '@peerscope/metric-map'
import { metricMapSuite } from './suite.ts'

metricMapSuite('LocalMetricMap', () => new LocalMetricMap())
