package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// ProxyBufferSize is the size of the buffers the bare proxy copies bodies
// through, as net/http/httputil.ReverseProxy allocates them by default.
const ProxyBufferSize = 32 << 10

// The bare proxy's connection pool to its target, sized like the one
// govbus's REST adapter keeps per registry endpoint (adapters/rest
// defaults), so that the baseline and govbus differ by what govbus does
// with an exchange rather than by pool limits.
const (
	proxyMaxIdleConnsPerHost = 256
	proxyMaxConnsPerHost     = 512
	proxyIdleConnTimeout     = 90 * time.Second
	proxyConnectTimeout      = 2 * time.Second
)

// NewProxyTransport returns the transport of the bare proxy: keep-alive
// HTTP/1.1 to one host, pooled like govbus's, bodies passed through as
// encoded (no transparent compression), and no proxy from the environment.
func NewProxyTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: proxyConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   proxyConnectTimeout,
		MaxIdleConns:          proxyMaxIdleConnsPerHost,
		MaxIdleConnsPerHost:   proxyMaxIdleConnsPerHost,
		MaxConnsPerHost:       proxyMaxConnsPerHost,
		IdleConnTimeout:       proxyIdleConnTimeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
}

// BufferPool is an httputil.BufferPool of fixed-size buffers kept in a
// sync.Pool.
type BufferPool struct {
	size int
	pool sync.Pool
}

// NewBufferPool returns a pool of buffers of size bytes.
func NewBufferPool(size int) *BufferPool {
	p := &BufferPool{size: size}
	p.pool.New = func() any {
		b := make([]byte, size)
		return &b
	}
	return p
}

// Get returns a buffer of the pool's size.
func (p *BufferPool) Get() []byte { return *p.pool.Get().(*[]byte) }

// Put returns b to the pool; a buffer of another size is dropped.
func (p *BufferPool) Put(b []byte) {
	if cap(b) != p.size {
		return
	}
	b = b[:p.size]
	p.pool.Put(&b)
}

// NewProxy returns the bare reverse proxy to target: the handler of
// httputil.NewSingleHostReverseProxy (the path is forwarded as given,
// under target's path, if any) with transport, a BufferPool of
// ProxyBufferSize buffers and an error log that discards. A failed
// exchange still answers 502, which the load generator counts.
func NewProxy(target *url.URL, transport http.RoundTripper) *httputil.ReverseProxy {
	p := httputil.NewSingleHostReverseProxy(target)
	p.Transport = transport
	p.BufferPool = NewBufferPool(ProxyBufferSize)
	p.ErrorLog = log.New(io.Discard, "", 0)
	return p
}

// ParseProxyTarget checks that raw is an absolute http:// URL with a
// host and neither query nor fragment.
func ParseProxyTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("target %q: %v", raw, err)
	}
	if u.Scheme != "http" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("target %q: want http://HOST:PORT[/PATH]", raw)
	}
	return u, nil
}

// newProxyServer returns the HTTP server of the bare proxy, with govbus's
// default listener limits, and an error log that discards.
func newProxyServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
}

// ServeProxy serves the bare reverse proxy to target on ln until ctx is
// cancelled, then stops gracefully: it stops accepting, lets the requests
// in flight finish within drain, and closes what is left. It returns nil
// after a stop through ctx, and the error that ended serving otherwise.
// ln is closed in every case.
func ServeProxy(ctx context.Context, ln net.Listener, target *url.URL, drain time.Duration) error {
	tr := NewProxyTransport()
	defer tr.CloseIdleConnections()
	srv := newProxyServer(NewProxy(target, tr))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		_ = ln.Close()
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close()
		err = fmt.Errorf("stopping: requests still in flight after %s: %w", drain, err)
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
