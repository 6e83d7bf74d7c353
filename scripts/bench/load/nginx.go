package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// nginx is an nginx started from a throw-away configuration, serving the
// server's blobs through symlinks in its root.
type nginx struct {
	dir, base string
	cmd       *exec.Cmd
	version   string
	workers   int
}

// pids are nginx's master and its workers.
func (n *nginx) pids() []int {
	return append([]int{n.cmd.Process.Pid}, children(n.cmd.Process.Pid)...)
}

// nginxConf writes the configuration: sendfile on, no access log, the
// temporary paths inside dir, listening on 127.0.0.1:port.
func nginxConf(dir string, port int, workers string) string {
	var c strings.Builder
	if os.Getuid() == 0 {
		// As root, nginx's workers would run as nobody, who cannot read
		// the data directory (0700): keep them root, on a loopback port.
		c.WriteString("user root;\n")
	}
	fmt.Fprintf(&c, "worker_processes %s;\npid %s/nginx.pid;\nerror_log %s/error.log warn;\n", workers, dir, dir)
	c.WriteString("events { worker_connections 1024; }\nhttp {\n    access_log off;\n    sendfile on;\n    tcp_nopush on;\n")
	c.WriteString("    keepalive_requests 1000000;\n    default_type application/octet-stream;\n")
	fmt.Fprintf(&c, "    client_body_temp_path %s/tmp/client_body;\n", dir)
	v, _ := exec.Command("nginx", "-V").CombinedOutput()
	for _, m := range []string{"proxy", "fastcgi", "uwsgi", "scgi"} {
		if !bytes.Contains(v, []byte("--without-http_"+m+"_module")) {
			fmt.Fprintf(&c, "    %s_temp_path %s/tmp/%s;\n", m, dir, m)
		}
	}
	fmt.Fprintf(&c, "    server {\n        listen 127.0.0.1:%d;\n        root %s/www;\n    }\n}\n", port, dir)
	return c.String()
}

// startNginx runs nginx in the foreground (daemon off) with links to the
// large blob and, when there is one, the small blob.
func (b *bench) startNginx(smallBlob string) (*nginx, error) {
	n := &nginx{dir: filepath.Join(b.work, "nginx")}
	for _, d := range []string{"www", "tmp"} {
		if err := os.MkdirAll(filepath.Join(n.dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	links := map[string]string{"big.bin": b.blob, "small.bin": smallBlob}
	for name, target := range links {
		if target == "" {
			continue
		}
		if err := os.Symlink(target, filepath.Join(n.dir, "www", name)); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(n.dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConf(n.dir, port, b.cfg.nginxWorkers)), 0o600); err != nil {
		return nil, err
	}
	args := []string{"-p", n.dir + "/", "-c", conf}
	if h, _ := exec.Command("nginx", "-h").CombinedOutput(); bytes.Contains(h, []byte("-e filename")) {
		args = append(args, "-e", filepath.Join(n.dir, "error.log"))
	}
	if out, err := exec.Command("nginx", append(args, "-t")...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("nginx -t: %v: %s", err, out)
	}
	return n, b.runNginx(n, args, port)
}

func (b *bench) runNginx(n *nginx, args []string, port int) error {
	logf, err := os.Create(filepath.Join(n.dir, "stderr.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	n.cmd = exec.Command("nginx", append(args, "-g", "daemon off;")...)
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	if err := n.cmd.Start(); err != nil {
		return err
	}
	b.track(n.cmd)
	n.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitServing(n.base + "/big.bin"); err != nil {
		out, _ := os.ReadFile(filepath.Join(n.dir, "stderr.log"))
		elog, _ := os.ReadFile(filepath.Join(n.dir, "error.log"))
		return fmt.Errorf("nginx: %w: %s%s", err, out, elog)
	}
	v, _ := exec.Command("nginx", "-v").CombinedOutput()
	n.version = strings.TrimSpace(string(v))
	if _, after, ok := strings.Cut(n.version, "nginx/"); ok {
		n.version = after
	}
	n.workers = len(children(n.cmd.Process.Pid))
	b.logf("nginx %s (%d workers) serves %s on port %d", n.version, n.workers, b.blobDesc, port)
	return nil
}

// phaseAgainstNginx compares the servers with nginx: the large file
// through each portal, each dest-url and nginx; then the small file with
// wrk.
func (b *bench) phaseAgainstNginx() error {
	// The peak of the transfer sections, before the sign-ins (argon2id)
	// grow the heap.
	for _, sd := range b.sides {
		sd.res.transferPeak = "n/a"
		if sd.rss.canReset {
			sd.res.transferPeak = sd.rss.peak()
		}
	}
	smallBlob := ""
	if b.cfg.on("small") {
		var err error
		if smallBlob, err = b.smallSetup(); err != nil {
			return err
		}
	}
	if !b.cfg.needNginx() {
		return nil
	}
	ng, err := b.startNginx(smallBlob)
	if err != nil {
		return err
	}
	defer stopProc(ng.cmd)
	b.res.nginx.version, b.res.nginx.workers = ng.version, ng.workers
	if b.cfg.on("nginx") {
		if err := b.nginxRounds(ng); err != nil {
			return err
		}
	}
	if b.cfg.on("small") {
		return b.phaseWrk(ng)
	}
	return nil
}

// nginxResult is nginx's part of the large-file rounds and of the wrk runs.
type nginxResult struct {
	version    string
	workers    int
	load       string
	nginx      []float64 // MB/s of the large file
	cpu        cpuSums   // per large download
	workerPeak string    // the largest VmHWM of its workers after the wrk runs, MiB
}

// bigResult is a server's part of the large-file rounds against nginx.
type bigResult struct {
	portal, dest       []float64 // MB/s
	cpuPortal, cpuDest cpuSums
}

// nginxRounds downloads the large file once through nginx and through the
// portal and a dest-url of each server per round; round i starts with a
// different one, so that none is always first (or always after another).
func (b *bench) nginxRounds(ng *nginx) error {
	b.logf("nginx: checking bytes")
	if err := b.checkSum("nginx download", b.xfer, ng.base+"/big.bin", b.sha); err != nil {
		return err
	}
	if !b.cfg.on("dest") {
		for _, sd := range b.sides {
			url, err := b.destURLOn(sd.server, sd.objID)
			if err != nil {
				return err
			}
			if err := b.checkSum(sd.name+" dest-url download", b.xfer, url, b.sha); err != nil {
				return err
			}
		}
	}
	b.logf("GET nginx and the portal and a dest-url of each server x%d, alternating", b.cfg.runsNginx)
	r := &b.res.nginx
	r.load = load1()
	for i := 1; i <= b.cfg.runsNginx; i++ {
		line := ""
		err := rotate(i, 1+2*len(b.sides), func(k int) error {
			what, rate, err := b.nginxRun(ng, i, k)
			line += fmt.Sprintf("; %s %.1f", what, rate)
			return err
		})
		if err != nil {
			return err
		}
		b.logf("  round %d (MiB/s)%s", i, line)
	}
	for _, sd := range b.sides {
		b.logf("%s: portal/nginx %s, dest-url/nginx %s (medians)", sd.name,
			ratio(median(sd.res.big.portal), median(r.nginx)), ratio(median(sd.res.big.dest), median(r.nginx)))
	}
	return nil
}

// nginxRun is one download of a round: 0 nginx, then for each server its
// portal and a dest-url (asked for outside the timing). It adds up the
// CPU time of whoever served it.
func (b *bench) nginxRun(ng *nginx, i, which int) (string, float64, error) {
	url, c, what := ng.base+"/big.bin", b.xfer, "nginx"
	g, rates, cpu := procGroup{main: ng.pids}, &b.res.nginx.nginx, &b.res.nginx.cpu
	if which > 0 {
		sd := b.sides[(which-1)/2]
		big := &sd.res.big
		url, c, what, g, rates, cpu = sd.portalURL, sd.big.c, sd.name+" portal", sd.group(), &big.portal, &big.cpuPortal
		if which%2 == 0 {
			u, err := b.destURLOn(sd.server, sd.objID)
			if err != nil {
				return what, 0, err
			}
			url, c, what, rates, cpu = u, b.xfer, sd.name+" dest-url", &big.dest, &big.cpuDest
		}
	}
	stop := b.startGroup(g)
	f, err := get(c, url, false)
	cpu.add(stop(0))
	if err == nil {
		err = f.want(what+" GET (vs nginx)", i, b.cfg.sizeBytes())
	}
	if err != nil {
		return what, 0, err
	}
	*rates = append(*rates, mbps(f.n, f.secs))
	return what, mbps(f.n, f.secs), nil
}
