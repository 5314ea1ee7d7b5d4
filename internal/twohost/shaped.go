package twohost

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// shapedLink is a link made of one TUN device in each namespace: this
// process reads each packet the kernel sends out of one, and writes it into
// the other after the delay, unless it drops it.
type shapedLink struct {
	a, b *os.File
	wg   sync.WaitGroup
	once sync.Once
}

// newShapedLink makes a TUN device named ifname in namespaces nsA and nsB
// and starts carrying packets between them.
func newShapedLink(nsA, nsB, ifname string, delay time.Duration, loss float64) (*shapedLink, error) {
	a, err := openTUN(nsA, ifname)
	if err != nil {
		return nil, err
	}
	b, err := openTUN(nsB, ifname)
	if err != nil {
		a.Close()
		return nil, err
	}
	l := &shapedLink{a: a, b: b}
	seed := uint64(time.Now().UnixNano())
	for i, dir := range [][2]*os.File{{a, b}, {b, a}} {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			carry(dir[0], dir[1], delay, loss, rand.New(rand.NewPCG(seed, uint64(i))))
		}()
	}
	return l, nil
}

// Close removes both devices (they go with their last descriptor) and
// waits for the carriers to stop.
func (l *shapedLink) Close() error {
	l.once.Do(func() {
		l.a.Close()
		l.b.Close()
		l.wg.Wait()
	})
	return nil
}

// packet is one packet in flight and when it arrives.
type packet struct {
	data []byte
	due  time.Time
}

// carry moves packets from in to out: each is dropped with probability
// loss, or written delay after it was read. A full queue (far more than a
// link holds in flight) drops the packet, as a router's would.
func carry(in, out *os.File, delay time.Duration, loss float64, rng *rand.Rand) {
	queue := make(chan packet, 1<<16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range queue {
			if d := time.Until(p.due); d > 0 {
				time.Sleep(d)
			}
			// A write fails while the other end is down: the packet is
			// lost, as on a cut cable.
			if _, err := out.Write(p.data); err != nil && errors.Is(err, os.ErrClosed) {
				for range queue {
				}
				return
			}
		}
	}()
	buf := make([]byte, 1<<16)
	for {
		n, err := in.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				break
			}
			// The device is down (EIO) or the read was interrupted:
			// wait for it to come back.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if loss > 0 && rng.Float64() < loss {
			continue
		}
		p := packet{data: append([]byte(nil), buf[:n]...), due: time.Now().Add(delay)}
		select {
		case queue <- p:
		default:
		}
	}
	close(queue)
	<-done
}

// openTUN makes a TUN device (layer 3, no packet information header)
// named ifname in network namespace ns and returns its descriptor, set
// non-blocking so that Go's poller waits on it and Close ends a read.
func openTUN(ns, ifname string) (*os.File, error) {
	type result struct {
		f   *os.File
		err error
	}
	ch := make(chan result, 1)
	// The device is created in the namespace of the thread that creates
	// it: a locked thread enters ns and comes back. If it cannot come
	// back it stays locked, and the runtime discards it with the
	// goroutine.
	go func() {
		runtime.LockOSThread()
		back, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- result{nil, fmt.Errorf("open this thread's network namespace: %w", err)}
			return
		}
		defer unix.Close(back)
		f, err := openTUNHere(ns, ifname)
		if unix.Setns(back, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{f, err}
	}()
	r := <-ch
	return r.f, r.err
}

func openTUNHere(ns, ifname string) (*os.File, error) {
	target, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open namespace %s: %w", ns, err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("enter namespace %s: %w", ns, err)
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/net/tun (the kernel's TUN driver): %w", err)
	}
	req, err := unix.NewIfreq(ifname)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	req.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, req); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("make TUN device %s in %s: %w", ifname, ns, err)
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun:"+ns+"/"+ifname), nil
}
