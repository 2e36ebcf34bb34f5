//! Keeping server rendering to one pass over a `Suspense`'s content.

/// Awaits `data` (a resource read) in a `Suspend`, so the server builds the view that
/// follows once per page instead of three times: `let list = render_once(list).await;`.
///
/// While rendering on the server, Leptos walks the content of every `Suspense` three
/// times: twice to find the resources read in it (before and after they load), then to
/// render. A `Suspend` whose data are already there builds its whole view on every walk,
/// and `/devices` built its list (five devices, each a dozen formatted texts) three
/// times per page. On the server this yields once after the read: the walks still see
/// the read, but stop there; the render awaits the yield and builds the view once. In
/// the browser it is the plain read, since hydration needs the view right away.
///
/// The render then takes Leptos's async path, which costs a little too: the login page's
/// one-line notice and the header's links do without, because for them it cost more than
/// it saved (measured side by side; docs/PERFORMANCE.md).
pub async fn render_once<T: IntoFuture>(data: T) -> T::Output {
    let value = data.await;
    build_once().await;
    value
}

/// The yield of [`render_once`] on its own, for a `Suspend` that decides after its read
/// whether what follows is worth building once: the header's signed-in links are (a
/// dozen nodes and the sign-out form's action), its two signed-out links are not.
pub async fn build_once() {
    #[cfg(feature = "ssr")]
    YieldOnce(false).await;
}

/// Pending once, after waking its task, then ready.
///
/// Not `tokio::task::yield_now`: tokio defers that wake-up until the runtime has polled
/// its I/O driver, which on a busy server costs an `epoll_wait` per yield
/// (docs/PERFORMANCE.md). A task that wakes itself while running is simply polled again
/// next.
#[cfg(feature = "ssr")]
struct YieldOnce(bool);

#[cfg(feature = "ssr")]
impl Future for YieldOnce {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}
