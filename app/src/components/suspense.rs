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
/// it saved (measured side by side; README, "Performance").
pub async fn render_once<T: IntoFuture>(data: T) -> T::Output {
    let value = data.await;
    #[cfg(feature = "ssr")]
    tokio::task::yield_now().await;
    value
}
