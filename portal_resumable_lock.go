package sesame

import (
	"context"
	"sync"
	"time"
)

// LockResumable takes the lock of the visit's upload id for one request,
// waiting while another request holds it (which is asked to let go) until
// ctx ends. While the lock is held its lease is renewed; release is
// called when another request asks for the lock or the lease is lost, and
// the holder should then finish soon. unlock gives the lock back.
// NotFound (errNoResumable) when the session has no such upload.
func (ps *PortalService) LockResumable(ctx context.Context, v *Visit, id string, release func()) (unlock func(), err error) {
	if v.Session == nil || id == "" {
		return nil, errNoResumable
	}
	holder := NewID("")
	for {
		now := ps.now()
		ok, err := ps.Resumables.LockResumable(ctx, id, v.Session.ID, holder, now, now.Add(ResumableLease))
		if KindOf(err) == NotFound {
			return nil, errNoResumable
		}
		if err != nil {
			return nil, err
		}
		if ok {
			break
		}
		t := time.NewTimer(resumableLockPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go ps.renewResumableLock(id, holder, release, stop, done)
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			if err := ps.Resumables.UnlockResumable(context.WithoutCancel(ctx), id, holder); err != nil {
				ps.log().ErrorContext(ctx, "unlock resumable upload", "error", err)
			}
		})
	}, nil
}

// renewResumableLock renews holder's lease until stop is closed, and calls
// release once when another request wants the lock or the lease is lost.
func (ps *PortalService) renewResumableLock(id, holder string, release func(), stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(resumableRenew)
	defer t.Stop()
	released := false
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		held, wanted, err := ps.Resumables.RenewResumableLock(context.Background(), id, holder, ps.now().Add(ResumableLease))
		if err != nil {
			ps.log().Warn("renew resumable upload lock", "error", err)
			continue // the lease has time left; try again
		}
		if (!held || wanted) && !released {
			released = true
			release()
		}
	}
}
