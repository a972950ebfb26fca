package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// quiet is how long a take waits for one more addr before it decides the
// stream has nothing ready. go hands each broadcast addr to the stream's
// goroutine synchronously (AddAddrs returns only after the handoff), so every
// addr is ready at once; the wait only bounds goroutine scheduling.
const quiet = 200 * time.Millisecond

type addrStream struct {
	ch     <-chan ma.Multiaddr
	cancel context.CancelFunc
}

func (r *traceRun) openStream(p peer.ID, id int) (any, error) {
	if _, ok := r.streams[id]; ok {
		return nil, fmt.Errorf("stream %d already open", id)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.streams[id] = &addrStream{ch: r.ps.AddrStream(ctx, p), cancel: cancel}
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
	for {
		select {
		case a, open := <-s.ch:
			if !open {
				slices.Sort(got)
				return got, nil
			}
			got = append(got, a.String())
		case <-time.After(quiet):
			slices.Sort(got)
			return got, nil
		}
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
