"""Run Debian's nginx as a throw-away WebDAV server on 127.0.0.1, for the remote-cache tests and
benchmark: `Nginx(directory)` starts it (config, root and logs in `directory`, a free port) and gives
`url` (with the prefix /wasmbuild); `stop()` ends it; `blobs()` lists the stored CAS blobs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


class Nginx:
    def __init__(self, tmp_path):
        tmp_path = Path(tmp_path)
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.root = tmp_path / "www"
        self.root.mkdir()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        conf = tmp_path / "nginx.conf"
        conf.write_text(f"""
            daemon off;
            master_process off;
            user root;
            pid {tmp_path}/nginx.pid;
            error_log {tmp_path}/error.log;
            events {{ worker_connections 64; }}
            http {{
              access_log off;
              client_body_temp_path {tmp_path}/body;
              proxy_temp_path {tmp_path}/proxy;
              fastcgi_temp_path {tmp_path}/fastcgi;
              uwsgi_temp_path {tmp_path}/uwsgi;
              scgi_temp_path {tmp_path}/scgi;
              server {{
                listen 127.0.0.1:{self.port};
                root {self.root};
                client_max_body_size 0;
                dav_methods PUT;
                create_full_put_path on;
              }}
            }}""")
        self.proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError(f"nginx did not start: {self.proc.stderr.read().decode()}")
        self.url = f"http://127.0.0.1:{self.port}/wasmbuild"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def blobs(self):
        cas = self.root / "wasmbuild" / "cas"
        return sorted(cas.iterdir()) if cas.exists() else []


