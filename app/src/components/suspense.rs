//! Keeping server rendering to one pass over a `Suspense`'s content.

/// Await this in a `Suspend`, after its resource reads and before it builds its view,
/// so the server builds that view once per page instead of three times.
///
/// While rendering on the server, Leptos walks the content of every `Suspense` three
/// times: twice to find the resources read in it (before and after they load), then to
/// render. A `Suspend` whose data are already there builds its whole view on every walk,
/// and `/devices` built its list (five devices, each a dozen formatted texts) three
/// times per page. On the server this yields once: the walks still see every resource
/// read, which happen before it, but stop here; the render awaits it and builds the view
/// once. In the browser it returns at once, since hydration needs the view right away.
///
/// The render then takes Leptos's async path, which costs a little too: the login page's
/// one-line notice and the header's links do without, because for them it cost more than
/// it saved (measured side by side; README, "Performance").
pub async fn render_once() {
    #[cfg(feature = "ssr")]
    tokio::task::yield_now().await;
}
