//! A TCP proxy a test controls, to cut an instance off from its database and give it
//! back: while cut, every connection through it is closed and new ones are refused
//! (its port is closed, as a stopped PostgreSQL's would be).

use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Proxy {
    pub addr: SocketAddr,
    cut: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Forwards connections on a new local port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cut, watching) = watch::channel(false);
        let task = tokio::spawn(serve(listener, addr, upstream, watching));
        Proxy { addr, cut, task }
    }

    /// Closes every connection and the port.
    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    /// Opens the port again.
    pub fn restore(&self) {
        self.cut.send_replace(false);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut listener: TcpListener,
    addr: SocketAddr,
    upstream: SocketAddr,
    mut cut: watch::Receiver<bool>,
) {
    loop {
        let connections = cut.clone();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    if let Ok((client, _)) = accepted {
                        tokio::spawn(forward(client, upstream, connections.clone()));
                    }
                }
                _ = cut.wait_for(|cut| *cut) => break,
            }
        }
        drop(listener);
        if cut.wait_for(|cut| !*cut).await.is_err() {
            return;
        }
        listener = TcpListener::bind(addr)
            .await
            .expect("the proxy's port again");
    }
}

async fn forward(mut client: TcpStream, upstream: SocketAddr, mut cut: watch::Receiver<bool>) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = cut.wait_for(|cut| *cut) => {}
    }
}
