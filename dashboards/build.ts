// The Grafana dashboard for peerscope, as data: `node dashboards/build.ts` writes dashboards/peerscope.json.
// examples/local-swarm/test/dashboards.test.ts checks that the JSON in the repository is this file's output and
// has a real Prometheus evaluate every expression in it against a running swarm.
import { writeFileSync } from 'node:fs'

/** Every selector filters on the dashboard's two variables. */
const S = 'job=~"$job",instance=~"$instance"'
const RATE = '$__rate_interval'

interface Target {
  expr: string
  legend?: string
  /** A bar gauge or stat of the latest value rather than a time series. */
  instant?: boolean
}

interface PanelSpec {
  title: string
  description: string
  type: 'timeseries' | 'stat' | 'bargauge'
  unit: string
  targets: Target[]
  width?: number
  height?: number
}

interface RowSpec {
  title: string
  panels: PanelSpec[]
}

const rows: RowSpec[] = [
  {
    title: 'Bandwidth (stream payload, after multistream-select)',
    panels: [
      {
        title: 'Received',
        description: 'Stream payload bytes received since the nodes started (libp2p_transfer_bytes_total).',
        type: 'stat',
        unit: 'bytes',
        width: 6,
        height: 4,
        targets: [{ expr: `sum(libp2p_transfer_bytes_total{${S},direction="in"})`, instant: true }]
      },
      {
        title: 'Sent',
        description: 'Stream payload bytes sent since the nodes started.',
        type: 'stat',
        unit: 'bytes',
        width: 6,
        height: 4,
        targets: [{ expr: `sum(libp2p_transfer_bytes_total{${S},direction="out"})`, instant: true }]
      },
      {
        title: 'Peers tracked',
        description: 'Peers counted one by one (the rest share the overflow bucket).',
        type: 'stat',
        unit: 'short',
        width: 6,
        height: 4,
        targets: [{ expr: `sum(libp2p_bandwidth_tracked_peers{${S}})`, instant: true }]
      },
      {
        title: 'Open connections',
        description: 'Inbound and outbound connections of the selected nodes.',
        type: 'stat',
        unit: 'short',
        width: 6,
        height: 4,
        targets: [
          {
            expr: `sum(libp2p_connection_manager_connections{${S},key=~"inbound|outbound"})`,
            instant: true
          }
        ]
      },
      {
        title: 'Payload rate',
        description: 'Stream payload bytes per second, from the byte counters.',
        type: 'timeseries',
        unit: 'binBps',
        targets: [
          {
            expr: `sum by (direction) (rate(libp2p_transfer_bytes_total{${S}}[${RATE}]))`,
            legend: '{{direction}}'
          }
        ]
      },
      {
        title: 'Rate per node (EWMA)',
        description:
          "Each node's own rate, an EWMA over 1 s sweeps as go-libp2p's BandwidthCounter (libp2p_transfer_rate_bytes_per_second).",
        type: 'timeseries',
        unit: 'binBps',
        targets: [
          {
            expr: `sum by (instance, direction) (libp2p_transfer_rate_bytes_per_second{${S}})`,
            legend: '{{instance}} {{direction}}'
          }
        ]
      },
      {
        title: 'Wire rate',
        description:
          'Bytes on the wire of all connections: payload plus noise, yamux and multistream-select overhead and handshakes.',
        type: 'timeseries',
        unit: 'binBps',
        targets: [
          {
            expr: `sum by (direction) (rate(libp2p_connection_wire_bytes_total{${S}}[${RATE}]))`,
            legend: 'wire {{direction}}'
          }
        ]
      },
      {
        title: 'Wire bytes per payload byte',
        description: 'Wire rate over payload rate: 1 would be no overhead at all.',
        type: 'timeseries',
        unit: 'none',
        targets: [
          {
            expr: `sum(rate(libp2p_connection_wire_bytes_total{${S}}[${RATE}])) / sum(rate(libp2p_transfer_bytes_total{${S}}[${RATE}]))`,
            legend: 'wire / payload'
          }
        ]
      },
      {
        title: 'Messages per second',
        description: 'Stream sends and received chunks per second (libp2p_transfer_packets_total).',
        type: 'timeseries',
        unit: 'ops',
        targets: [
          {
            expr: `sum by (direction) (rate(libp2p_transfer_packets_total{${S}}[${RATE}]))`,
            legend: '{{direction}}'
          }
        ]
      }
    ]
  },
  {
    title: 'Protocols',
    panels: [
      {
        title: 'Rate by protocol',
        description: 'Stream payload bytes per second, by protocol and direction.',
        type: 'timeseries',
        unit: 'binBps',
        targets: [
          {
            expr: `sum by (protocol, direction) (rate(libp2p_protocol_transfer_bytes_total{${S}}[${RATE}]))`,
            legend: '{{protocol}} {{direction}}'
          }
        ]
      },
      {
        title: 'Bytes by protocol',
        description: 'Stream payload bytes since the nodes started, both directions, busiest first.',
        type: 'bargauge',
        unit: 'bytes',
        targets: [
          {
            expr: `sort_desc(sum by (protocol) (libp2p_protocol_transfer_bytes_total{${S}}))`,
            legend: '{{protocol}}',
            instant: true
          }
        ]
      },
      {
        title: 'Mean message size by protocol',
        description: 'Payload bytes per message, both directions.',
        type: 'timeseries',
        unit: 'bytes',
        targets: [
          {
            expr: `sum by (protocol) (rate(libp2p_protocol_transfer_bytes_total{${S}}[${RATE}])) / sum by (protocol) (rate(libp2p_protocol_transfer_packets_total{${S}}[${RATE}]))`,
            legend: '{{protocol}}'
          }
        ]
      }
    ]
  },
  {
    title: 'Peers (per-peer series: peerscope({ metrics: { prometheus: { perPeer: true } } }))',
    panels: [
      {
        title: 'Top peers by rate',
        description:
          'The $topk peers moving most bytes per second, both directions. Only the maxPeerLabels busiest peers of each node have a series; the rest are summed as peer="other", left out here.',
        type: 'timeseries',
        unit: 'binBps',
        targets: [
          {
            expr: `topk($topk, sum by (peer) (rate(libp2p_peer_transfer_bytes_total{${S},peer!="other"}[${RATE}])))`,
            legend: '{{peer}}'
          }
        ]
      },
      {
        title: 'Top peers by bytes',
        description: 'The $topk peers with most bytes since the nodes started, both directions.',
        type: 'bargauge',
        unit: 'bytes',
        targets: [
          {
            expr: `topk($topk, sum by (peer) (libp2p_peer_transfer_bytes_total{${S},peer!="other"}))`,
            legend: '{{peer}}',
            instant: true
          }
        ]
      },
      {
        title: 'Peers tracked per node',
        description: 'Peers whose bandwidth each node counts one by one.',
        type: 'timeseries',
        unit: 'short',
        targets: [
          { expr: `sum by (instance) (libp2p_bandwidth_tracked_peers{${S}})`, legend: '{{instance}}' }
        ]
      }
    ]
  },
  {
    title: 'Connections',
    panels: [
      {
        title: 'Connections by direction',
        description: "libp2p's connection manager: open and pending connections, inbound and outbound.",
        type: 'timeseries',
        unit: 'short',
        targets: [{ expr: `sum by (key) (libp2p_connection_manager_connections{${S}})`, legend: '{{key}}' }]
      },
      {
        title: 'Connections per node',
        description: 'Open connections of each node.',
        type: 'timeseries',
        unit: 'short',
        targets: [
          {
            expr: `sum by (instance) (libp2p_connection_manager_connections{${S},key=~"inbound|outbound"})`,
            legend: '{{instance}}'
          }
        ]
      },
      {
        title: 'TCP dialer events',
        description: "@libp2p/tcp's dialer: connects, errors, aborts and timeouts per second.",
        type: 'timeseries',
        unit: 'ops',
        targets: [
          {
            expr: `sum by (key) (rate(libp2p_tcp_dialer_events_total{${S}}[${RATE}]))`,
            legend: '{{key}}'
          }
        ]
      }
    ]
  },
  {
    title: 'Peer store',
    panels: [
      {
        title: 'Stored peers and addresses',
        description:
          'The persistent peer store: peers (the node itself excluded), unexpired addresses, pinned peers.',
        type: 'timeseries',
        unit: 'short',
        targets: [
          { expr: `sum by (instance) (libp2p_peerstore_peers{${S}})`, legend: '{{instance}} peers' },
          { expr: `sum by (instance) (libp2p_peerstore_addresses{${S}})`, legend: '{{instance}} addresses' },
          { expr: `sum by (instance) (libp2p_peerstore_pinned_peers{${S}})`, legend: '{{instance}} pinned' }
        ]
      },
      {
        title: 'Since the last GC',
        description: 'Time since the last address GC started (every 10 minutes by default).',
        type: 'stat',
        unit: 's',
        targets: [
          {
            expr: `time() - max by (instance) (libp2p_peerstore_gc_last_run_timestamp_seconds{${S}})`,
            legend: '{{instance}}',
            instant: true
          }
        ]
      },
      {
        title: 'Last GC',
        description: 'Duration of the last address GC and what it removed.',
        type: 'timeseries',
        unit: 'short',
        targets: [
          {
            expr: `libp2p_peerstore_gc_last_duration_seconds{${S}}`,
            legend: '{{instance}} duration (s)'
          },
          {
            expr: `libp2p_peerstore_gc_last_removed_addresses{${S}}`,
            legend: '{{instance}} addresses removed'
          },
          { expr: `libp2p_peerstore_gc_last_removed_peers{${S}}`, legend: '{{instance}} peers removed' }
        ]
      }
    ]
  },
  {
    title: 'Process health (the node thread)',
    panels: [
      {
        title: 'CPU',
        description: 'CPU time of the process per second (1 = one core).',
        type: 'timeseries',
        unit: 'percentunit',
        targets: [
          {
            expr: `sum by (instance) (rate(process_cpu_seconds_total{${S}}[${RATE}]))`,
            legend: '{{instance}}'
          }
        ]
      },
      {
        title: 'Memory',
        description: 'Resident set, V8 heap used and external (Buffers) memory.',
        type: 'timeseries',
        unit: 'bytes',
        targets: [
          { expr: `process_resident_memory_bytes{${S}}`, legend: '{{instance}} rss' },
          { expr: `nodejs_heap_size_used_bytes{${S}}`, legend: '{{instance}} heap used' },
          { expr: `nodejs_external_memory_bytes{${S}}`, legend: '{{instance}} external' }
        ]
      },
      {
        title: 'Event loop delay',
        description:
          'Delay of the event loop between scrapes, sampled every 100 ms: 99th percentile and maximum.',
        type: 'timeseries',
        unit: 's',
        targets: [
          { expr: `nodejs_eventloop_lag_p99_seconds{${S}}`, legend: '{{instance}} p99' },
          { expr: `nodejs_eventloop_lag_max_seconds{${S}}`, legend: '{{instance}} max' }
        ]
      },
      {
        title: 'Event loop utilisation',
        description: 'Share of the time the event loop ran code rather than waiting for I/O.',
        type: 'timeseries',
        unit: 'percentunit',
        targets: [
          {
            expr: `sum by (instance) (rate(nodejs_eventloop_time_seconds_total{${S},state="active"}[${RATE}])) / sum by (instance) (rate(nodejs_eventloop_time_seconds_total{${S}}[${RATE}]))`,
            legend: '{{instance}}'
          }
        ]
      },
      {
        title: 'GC time',
        description: 'Time spent in garbage collection per second, by kind.',
        type: 'timeseries',
        unit: 'percentunit',
        targets: [
          {
            expr: `sum by (instance, kind) (rate(nodejs_gc_duration_seconds_sum{${S}}[${RATE}]))`,
            legend: '{{instance}} {{kind}}'
          }
        ]
      },
      {
        title: 'File descriptors in use',
        description: 'Open file descriptors over the soft limit (Linux).',
        type: 'timeseries',
        unit: 'percentunit',
        targets: [{ expr: `process_open_fds{${S}} / process_max_fds{${S}}`, legend: '{{instance}}' }]
      },
      {
        title: 'Targets up',
        description: 'Nodes Prometheus scraped successfully at its last scrape, of all selected.',
        type: 'stat',
        unit: 'short',
        targets: [
          { expr: `sum(up{${S}})`, legend: 'up', instant: true },
          { expr: `count(up{${S}})`, legend: 'targets', instant: true }
        ]
      }
    ]
  }
]

// Grafana's placeholder for the data source chosen at import, not a template literal.
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana syntax
const DATASOURCE = { type: 'prometheus', uid: '${DS_PROMETHEUS}' }

function panel(spec: PanelSpec, id: number, x: number, y: number) {
  const width = spec.width ?? 12
  const height = spec.height ?? 8
  return {
    id,
    type: spec.type,
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos: { h: height, w: width, x, y },
    fieldConfig: { defaults: { unit: spec.unit }, overrides: [] },
    options:
      spec.type === 'timeseries'
        ? {
            legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
            tooltip: { mode: 'multi' }
          }
        : spec.type === 'bargauge'
          ? { orientation: 'horizontal', displayMode: 'basic', reduceOptions: { calcs: ['lastNotNull'] } }
          : { reduceOptions: { calcs: ['lastNotNull'] }, textMode: 'value_and_name' },
    targets: spec.targets.map((target, i) => ({
      datasource: DATASOURCE,
      refId: String.fromCharCode(65 + i),
      expr: target.expr,
      legendFormat: target.legend ?? '__auto',
      instant: target.instant === true,
      range: target.instant !== true
    }))
  }
}

/** The dashboard model Grafana imports (Dashboards → New → Import), with a data source input. */
export function peerscopeDashboard() {
  const panels: unknown[] = []
  let id = 1
  let y = 0
  for (const row of rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: []
    })
    y += 1
    let x = 0
    let rowHeight = 0
    for (const spec of row.panels) {
      const width = spec.width ?? 12
      if (x + width > 24) {
        x = 0
        y += rowHeight
        rowHeight = 0
      }
      panels.push(panel(spec, id++, x, y))
      x += width
      rowHeight = Math.max(rowHeight, spec.height ?? 8)
    }
    y += rowHeight
  }
  return {
    __inputs: [
      {
        name: 'DS_PROMETHEUS',
        label: 'Prometheus',
        description: 'The Prometheus that scrapes the peerscope nodes',
        type: 'datasource',
        pluginId: 'prometheus',
        pluginName: 'Prometheus'
      }
    ],
    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.0.0' },
      { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
      { type: 'panel', id: 'timeseries', name: 'Time series', version: '' },
      { type: 'panel', id: 'stat', name: 'Stat', version: '' },
      { type: 'panel', id: 'bargauge', name: 'Bar gauge', version: '' }
    ],
    title: 'peerscope',
    uid: 'peerscope',
    description:
      'js-libp2p nodes with @peerscope/metrics and @peerscope/swarm-adapter: bandwidth in total, per protocol and per peer, connections, the peer store and its GC, Node process health.',
    tags: ['libp2p', 'peerscope'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    timezone: '',
    annotations: { list: [] },
    links: [],
    templating: {
      list: [
        { name: 'DS_PROMETHEUS', label: 'Data source', type: 'datasource', query: 'prometheus', hide: 0 },
        {
          name: 'job',
          label: 'Job',
          type: 'query',
          datasource: DATASOURCE,
          query: { query: 'label_values(libp2p_transfer_bytes_total, job)', refId: 'job' },
          definition: 'label_values(libp2p_transfer_bytes_total, job)',
          refresh: 2,
          multi: true,
          includeAll: true,
          allValue: '.*',
          current: {},
          sort: 1
        },
        {
          name: 'instance',
          label: 'Node',
          type: 'query',
          datasource: DATASOURCE,
          query: {
            query: 'label_values(libp2p_transfer_bytes_total{job=~"$job"}, instance)',
            refId: 'instance'
          },
          definition: 'label_values(libp2p_transfer_bytes_total{job=~"$job"}, instance)',
          refresh: 2,
          multi: true,
          includeAll: true,
          allValue: '.*',
          current: {},
          sort: 1
        },
        {
          name: 'topk',
          label: 'Top N peers',
          type: 'custom',
          query: '5,10,20,50',
          current: { text: '10', value: '10' },
          options: ['5', '10', '20', '50'].map((value) => ({ text: value, value, selected: value === '10' }))
        }
      ]
    },
    panels
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = new URL('./peerscope.json', import.meta.url)
  writeFileSync(file, `${JSON.stringify(peerscopeDashboard(), null, 2)}\n`)
  console.log(`wrote ${file.pathname}`)
}
