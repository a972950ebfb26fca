// peerscope dashboard: time-series charts on uPlot (vendored, served from /assets/uplot.js). Adds what the
// dashboard needs around it: a keyboard-usable legend whose buttons toggle series, a tooltip, drag or keyboard
// zoom with a reset button, axes that read right at zero and at tiny rates, and pairs (in/out) drawn so that
// equal series both stay visible (solid under dashed). Labels (peer and protocol ids from remote peers) are
// only ever set with textContent.
;(() => {
  const F = globalThis.PeerscopeFormat

  const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim()

  const KINDS = {
    rate: {
      ticks: (splits) => F.byteTicks(splits, '/s'),
      value: F.formatRate,
      incrs: F.byteIncrements(),
      binary: true,
      minTop: 1
    },
    count: {
      ticks: (splits) => F.numberTicks(splits),
      value: (v) => (Number.isFinite(v) ? Number(v.toFixed(2)).toLocaleString('en-US') : '–'),
      incrs: F.countIncrements(),
      binary: false,
      minTop: 1
    },
    ms: {
      ticks: (splits) => F.numberTicks(splits, ' ms'),
      value: F.formatMs,
      incrs: F.decimalIncrements(),
      binary: false,
      minTop: 1
    }
  }

  const timeLabel = (t) => new Date(t).toLocaleTimeString([], { hour12: false })

  /**
   * A time chart in `host` (an element with a `.chart-plot` and a `.chart-legend` child, or created).
   * `spec`: { label (aria), kind: 'rate'|'count'|'ms', height, series: [{ label, color (CSS var name),
   * dash?: boolean, scale?: 'y'|'y2' }], y2?: kind, marks?: () => epoch ms[] }.
   */
  function timeChart(host, spec) {
    host.classList.add('chart-host')
    const plot = document.createElement('div')
    plot.className = 'chart-plot'
    plot.tabIndex = 0
    plot.setAttribute('role', 'img')
    plot.setAttribute('aria-label', `${spec.label}. Arrow keys move the cursor, + and - zoom, 0 resets.`)
    const tip = document.createElement('div')
    tip.className = 'chart-tip'
    tip.hidden = true
    const legend = document.createElement('div')
    legend.className = 'chart-legend'
    const reset = document.createElement('button')
    reset.type = 'button'
    reset.className = 'chart-reset'
    reset.textContent = 'Reset zoom'
    reset.hidden = true
    const empty = document.createElement('div')
    empty.className = 'chart-empty muted'
    empty.hidden = true
    plot.append(tip)
    host.replaceChildren(legend, plot, reset, empty)

    const hidden = new Set()
    let series = []
    let data = [[]]
    let u = null
    let zoomed = false
    let cursorIdx = null

    function axisStyle() {
      return {
        stroke: cssVar('--muted'),
        grid: { stroke: cssVar('--grid'), width: 1 },
        ticks: { show: false }
      }
    }

    function scaleRange(kind) {
      const k = KINDS[kind]
      return (_u, _min, max) => [0, F.niceTop(max, k.binary, k.minTop)]
    }

    function build() {
      u?.destroy()
      const width = Math.max(200, plot.clientWidth || host.clientWidth || 600)
      const y2 = spec.y2 !== undefined
      const opts = {
        width,
        height: spec.height ?? 220,
        ms: 1,
        legend: { show: false },
        cursor: { drag: { x: true, y: false }, points: { size: 6 } },
        scales: {
          x: { time: true },
          y: { range: scaleRange(spec.kind) },
          ...(y2 ? { y2: { range: scaleRange(spec.y2) } } : {})
        },
        axes: [
          { ...axisStyle(), space: 70 },
          {
            ...axisStyle(),
            scale: 'y',
            size: 76,
            incrs: KINDS[spec.kind].incrs,
            values: (_u, splits) => {
              const ticks = KINDS[spec.kind].ticks(splits)
              // The labels drawn on the canvas, readable by tests and assistive tools.
              host.dataset.yTicks = ticks.join('|')
              return ticks
            }
          },
          ...(y2
            ? [
                {
                  ...axisStyle(),
                  scale: 'y2',
                  side: 1,
                  size: 64,
                  grid: { show: false },
                  incrs: KINDS[spec.y2].incrs,
                  values: (_u, splits) => KINDS[spec.y2].ticks(splits)
                }
              ]
            : [])
        ],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            scale: s.scale ?? 'y',
            stroke: cssVar(s.color) || s.color,
            width: s.dash ? 2 : 2.25,
            dash: s.dash ? [7, 5] : undefined,
            show: !hidden.has(s.label),
            spanGaps: false,
            points: { show: false }
          }))
        ],
        hooks: {
          setCursor: [(chart) => showTip(chart)],
          setSelect: [
            (chart) => {
              if (chart.select.width > 0) zoomed = true
            }
          ],
          setScale: [
            (_chart, key) => {
              if (key === 'x') reset.hidden = !zoomed
            }
          ],
          draw: [(chart) => drawMarks(chart)]
        }
      }
      u = new uPlot(opts, data, plot)
      // Pixel tests find the drawing surface by this name.
      u.ctx.canvas.dataset.chart = host.id
    }

    function drawMarks(chart) {
      const marks = spec.marks?.() ?? []
      if (marks.length === 0) return
      const { ctx } = chart
      const { top, height } = chart.bbox
      ctx.save()
      ctx.strokeStyle = cssVar('--gc')
      ctx.lineWidth = Math.max(1, devicePixelRatio)
      for (const t of marks) {
        const x = Math.round(chart.valToPos(t, 'x', true)) + 0.5
        if (x < chart.bbox.left || x > chart.bbox.left + chart.bbox.width) continue
        ctx.beginPath()
        ctx.moveTo(x, top)
        ctx.lineTo(x, top + height)
        ctx.stroke()
      }
      ctx.restore()
    }

    function valueText(s, v) {
      const kind = s.scale === 'y2' ? spec.y2 : spec.kind
      return v === null || v === undefined ? 'no sample' : KINDS[kind].value(v)
    }

    function showTip(chart) {
      const idx = chart.cursor.idx
      cursorIdx = idx ?? cursorIdx
      updateLegend(idx)
      if (idx === null || idx === undefined || chart.cursor.left < 0) {
        tip.hidden = true
        return
      }
      const rows = [timeLabel(data[0][idx])]
      const lines = document.createDocumentFragment()
      const head = document.createElement('div')
      head.className = 'tip-time'
      head.textContent = rows[0]
      lines.append(head)
      series.forEach((s, i) => {
        if (hidden.has(s.label)) return
        const line = document.createElement('div')
        const key = document.createElement('span')
        key.className = `swatch${s.dash ? ' dashed' : ''}`
        key.style.borderColor = cssVar(s.color) || s.color
        const text = document.createElement('span')
        text.textContent = `${s.label}: ${valueText(s, data[i + 1]?.[idx])}`
        line.append(key, text)
        lines.append(line)
      })
      tip.replaceChildren(lines)
      tip.hidden = false
      const left = chart.cursor.left + chart.bbox.left / devicePixelRatio
      const flip = left > plot.clientWidth / 2
      tip.style.left = flip ? '' : `${left + 14}px`
      tip.style.right = flip ? `${plot.clientWidth - left + 14}px` : ''
      tip.style.top = `${Math.max(0, chart.cursor.top - 10)}px`
    }

    function updateLegend(idx) {
      const buttons = legend.querySelectorAll('button')
      series.forEach((s, i) => {
        const column = data[i + 1] ?? []
        let v = idx === null || idx === undefined ? undefined : column[idx]
        if (idx === null || idx === undefined) {
          for (let j = column.length - 1; j >= 0 && v === undefined; j--)
            if (column[j] !== null) v = column[j]
        }
        const out = buttons[i]?.querySelector('.value')
        if (out) out.textContent = v === undefined || v === null ? '' : valueText(s, v)
      })
    }

    function renderLegend() {
      const buttons = series.map((s, i) => {
        const button = document.createElement('button')
        button.type = 'button'
        button.className = 'series-toggle'
        button.setAttribute('aria-pressed', String(!hidden.has(s.label)))
        const key = document.createElement('span')
        key.className = `swatch${s.dash ? ' dashed' : ''}`
        key.style.borderColor = cssVar(s.color) || s.color
        const label = document.createElement('span')
        label.className = 'label'
        label.textContent = s.label
        label.title = s.label
        const value = document.createElement('span')
        value.className = 'value'
        button.append(key, label, value)
        button.addEventListener('click', () => {
          const show = hidden.has(s.label)
          if (show) hidden.delete(s.label)
          else hidden.add(s.label)
          button.setAttribute('aria-pressed', String(show))
          u?.setSeries(i + 1, { show })
        })
        return button
      })
      legend.replaceChildren(...buttons)
    }

    function resetZoom() {
      zoomed = false
      reset.hidden = true
      if (u !== null && data[0].length > 0) u.setScale('x', { min: data[0][0], max: data[0].at(-1) })
    }
    reset.addEventListener('click', resetZoom)

    plot.addEventListener('keydown', (event) => {
      if (u === null || data[0].length === 0) return
      const n = data[0].length
      const xs = u.scales.x
      if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
        const step = event.shiftKey ? 10 : 1
        let idx = cursorIdx ?? n - 1
        idx = Math.min(n - 1, Math.max(0, idx + (event.key === 'ArrowLeft' ? -step : step)))
        cursorIdx = idx
        u.setCursor({ left: u.valToPos(data[0][idx], 'x'), top: 20 })
      } else if (event.key === '+' || event.key === '=' || event.key === '-') {
        const center = cursorIdx === null ? (xs.min + xs.max) / 2 : data[0][cursorIdx]
        const half = ((xs.max - xs.min) / 2) * (event.key === '-' ? 2 : 0.5)
        zoomed = true
        u.setScale('x', {
          min: Math.max(data[0][0], center - half),
          max: Math.min(data[0][n - 1], center + half)
        })
      } else if (event.key === '0' || event.key === 'Escape') {
        resetZoom()
      } else return
      event.preventDefault()
    })

    const resize = new ResizeObserver(() => {
      if (u !== null) u.setSize({ width: Math.max(200, plot.clientWidth), height: spec.height ?? 220 })
    })
    resize.observe(plot)

    return {
      /** `t`: epoch ms; `columns`: one array per series, same order as `seriesList`. */
      update(seriesList, t, columns, note) {
        const labels = seriesList.map((s) => s.label).join('\n')
        const changed = labels !== series.map((s) => s.label).join('\n') || u === null
        series = seriesList
        data = [t, ...columns]
        host.dataset.points = String(t.length)
        host.dataset.series = String(series.length)
        empty.hidden = t.length > 0
        empty.textContent = note ?? 'No samples yet.'
        if (changed) {
          renderLegend()
          build()
        } else {
          u.setData(data, !zoomed)
        }
        updateLegend(null)
      },
      /** Redraws with the current theme (dark/light changed). */
      restyle() {
        if (series.length > 0) {
          renderLegend()
          build()
        }
      },
      destroy() {
        resize.disconnect()
        u?.destroy()
        u = null
      }
    }
  }

  globalThis.PeerscopeCharts = { timeChart }
})()
