//! A TCP port forward from inside a namespace to an address in the
//! namespace this process started in (usually the root namespace's
//! loopback): how a rack in a lab namespace reaches a region (and its
//! PostgreSQL-backed API) running in the test process. A socket belongs to
//! the namespace of the thread that made it, so the listener is made on a
//! thread inside the namespace and each outbound connection on the caller's.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;

use crate::Netns;

/// Stops accepting on drop (open connections run until either side closes).
pub struct Forward {
    stop: Arc<AtomicBool>,
    /// Where it listens, inside the namespace.
    pub listen: SocketAddr,
}

impl Drop for Forward {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Netns {
    /// Listen on `listen` inside this namespace and forward each connection
    /// to `target`, dialled from the calling thread's namespace.
    pub fn forward_tcp(&self, listen: SocketAddr, target: SocketAddr) -> anyhow::Result<Forward> {
        let stop = Arc::new(AtomicBool::new(false));
        let (ltx, lrx) = std::sync::mpsc::channel();
        let (ctx, crx) = std::sync::mpsc::channel::<TcpStream>();
        let stop_l = stop.clone();
        self.spawn(move || {
            let l = match TcpListener::bind(listen).and_then(|l| {
                l.set_nonblocking(true)?;
                Ok(l)
            }) {
                Ok(l) => l,
                Err(e) => {
                    let _ = ltx.send(Err(e));
                    return;
                }
            };
            let _ = ltx.send(Ok(l.local_addr().unwrap_or(listen)));
            while !stop_l.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((s, _)) => {
                        if s.set_nonblocking(false).is_err() || ctx.send(s).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(_) => return,
                }
            }
        })?;
        let bound = lrx
            .recv()
            .context("forward listener thread")?
            .with_context(|| format!("listening on {listen} in {}", self.name()))?;
        let stop_d = stop.clone();
        std::thread::spawn(move || {
            while !stop_d.load(Ordering::Relaxed) {
                let Ok(inbound) = crx.recv_timeout(Duration::from_millis(100)) else {
                    continue;
                };
                match TcpStream::connect_timeout(&target, Duration::from_secs(5)) {
                    Ok(outbound) => pipe(inbound, outbound),
                    Err(_) => {
                        let _ = inbound.shutdown(Shutdown::Both);
                    }
                }
            }
        });
        Ok(Forward {
            stop,
            listen: bound,
        })
    }
}

/// Copy both ways until either side closes.
fn pipe(a: TcpStream, b: TcpStream) {
    let _ = a.set_nodelay(true);
    let _ = b.set_nodelay(true);
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    std::thread::spawn(move || copy(a, b2));
    std::thread::spawn(move || copy(b, a2));
}

fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}
