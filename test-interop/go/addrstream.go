package main

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// A take yields to the stream's goroutine until it has handed over everything
// it holds. go hands each broadcast addr to that goroutine synchronously
// (AddAddrs returns only after the handoff), so every addr is already in its
// buffer: a take only has to let it run. The peerstore-trace mode runs on one
// P (GOMAXPROCS 1), where runtime.Gosched runs every runnable goroutine before
// returning; quiet is a last wait in case the goroutine is still not ready.
const (
	yields = 20
	quiet  = 100 * time.Microsecond
)

type addrStream struct {
	ch     <-chan ma.Multiaddr
	cancel context.CancelFunc
	// expiredAtOpen: expired, uncollected addrs go put in the stream's
	// initial list (DIFFERENCES.md streamSkipsExpiredAddrs).
	expiredAtOpen []string
}

func (r *traceRun) openStream(p peer.ID, id int) (any, error) {
	if _, ok := r.streams[id]; ok {
		return nil, fmt.Errorf("stream %d already open", id)
	}
	ctx, cancel := context.WithCancel(context.Background())
	expired := expiredAddrs(r.ps, p, r.clk.Now())
	r.streams[id] = &addrStream{ch: r.ps.AddrStream(ctx, p), cancel: cancel, expiredAtOpen: expired}
	if len(expired) > 0 {
		return map[string][]string{"expiredAtOpen": expired}, nil
	}
	return nil, nil
}

// takeStream reads every addr the stream has ready, sorted (go's order among
// addrs of one kind is map order).
func (r *traceRun) takeStream(id int) (any, error) {
	s, ok := r.streams[id]
	if !ok {
		return nil, fmt.Errorf("no stream %d", id)
	}
	got := []string{}
	done := func() (any, error) {
		slices.Sort(got)
		if len(s.expiredAtOpen) > 0 {
			return map[string][]string{"addrs": got, "expiredAtOpen": s.expiredAtOpen}, nil
		}
		return got, nil
	}
	for {
		// Yield first (the stream goroutine is runnable as soon as it has
		// something to send), then wait for up to quiet.
		a, open, ok := receiveNow(s.ch)
		for i := 0; !ok && i < yields; i++ {
			runtime.Gosched()
			a, open, ok = receiveNow(s.ch)
		}
		if !ok {
			select {
			case a, open = <-s.ch:
			case <-time.After(quiet):
				return done()
			}
		}
		if !open {
			return done()
		}
		got = append(got, a.String())
	}
}

func receiveNow(ch <-chan ma.Multiaddr) (ma.Multiaddr, bool, bool) {
	select {
	case a, open := <-ch:
		return a, open, true
	default:
		return nil, true, false
	}
}

func (r *traceRun) closeStream(id int) (any, error) {
	s, ok := r.streams[id]
	if !ok {
		return nil, fmt.Errorf("no stream %d", id)
	}
	s.cancel()
	delete(r.streams, id)
	return nil, nil
}

func (r *traceRun) closeStreams() {
	for id := range r.streams {
		r.closeStream(id)
	}
}
