package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	mockclock "github.com/filecoin-project/go-clock"
	"github.com/libp2p/go-flow-metrics"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// settle is real time given to the sweeper goroutine after each step, since
// go-flow-metrics offers no way to wait for a sweep.
const settle = 5 * time.Millisecond

type bandwidthTrace struct {
	Ops []bandwidthOp `json:"ops"`
}

// bandwidthOp is one step: "sent"/"recv" log bytes (with optional peer and
// protocol), "advance" moves the mock clock, "stats" reads everything.
type bandwidthOp struct {
	Op       string `json:"op"`
	Bytes    int64  `json:"bytes,omitempty"`
	Peer     string `json:"peer,omitempty"`
	Protocol string `json:"protocol,omitempty"`
	Ms       int64  `json:"ms,omitempty"`
}

type statsOut struct {
	TotalIn  int64   `json:"totalIn"`
	TotalOut int64   `json:"totalOut"`
	RateIn   float64 `json:"rateIn"`
	RateOut  float64 `json:"rateOut"`
}

func toStats(s metrics.Stats) statsOut {
	return statsOut{s.TotalIn, s.TotalOut, s.RateIn, s.RateOut}
}

func runBandwidthTrace(in io.Reader) ([]any, error) {
	var tr bandwidthTrace
	if err := json.NewDecoder(in).Decode(&tr); err != nil {
		return nil, err
	}
	clk := mockclock.NewMock()
	clk.Set(time.Unix(1_700_000_000, 0))
	// go-flow-metrics keeps one package-level sweeper clock; set it before any meter exists.
	flow.SetClock(clk)
	bwc := metrics.NewBandwidthCounter()
	results := make([]any, 0, len(tr.Ops))
	for n, op := range tr.Ops {
		switch op.Op {
		case "sent", "recv":
			if op.Peer == "" && op.Protocol == "" {
				if op.Op == "sent" {
					bwc.LogSentMessage(op.Bytes)
				} else {
					bwc.LogRecvMessage(op.Bytes)
				}
			} else if op.Op == "sent" {
				bwc.LogSentMessageStream(op.Bytes, protocol.ID(op.Protocol), peer.ID(op.Peer))
			} else {
				bwc.LogRecvMessageStream(op.Bytes, protocol.ID(op.Protocol), peer.ID(op.Peer))
			}
			// The sweeper registers new meters on its own goroutine; let it run.
			time.Sleep(settle)
			results = append(results, map[string]any{"op": op.Op})
		case "advance":
			// Step in sweep-sized increments so the sweeper goroutine sees every tick.
			remaining := time.Duration(op.Ms) * time.Millisecond
			for remaining > 0 {
				step := min(remaining, time.Second)
				clk.Add(step)
				time.Sleep(settle)
				remaining -= step
			}
			results = append(results, map[string]any{"op": op.Op})
		case "readPeer":
			// GetBandwidthForPeer creates a zero entry (DIFFERENCES.md readsCreateEntries).
			bwc.GetBandwidthForPeer(peer.ID(op.Peer))
			results = append(results, map[string]any{"op": op.Op})
		case "stats":
			byPeer := map[string]statsOut{}
			for p, s := range bwc.GetBandwidthByPeer() {
				byPeer[string(p)] = toStats(s)
			}
			byProto := map[string]statsOut{}
			for p, s := range bwc.GetBandwidthByProtocol() {
				byProto[string(p)] = toStats(s)
			}
			results = append(results, map[string]any{"op": op.Op, "result": map[string]any{
				"totals":     toStats(bwc.GetBandwidthTotals()),
				"byPeer":     byPeer,
				"byProtocol": byProto,
			}})
		default:
			return nil, fmt.Errorf("op %d: unknown op %q", n, op.Op)
		}
	}
	return results, nil
}
