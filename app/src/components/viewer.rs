//! Who is signed in, for every component: the viewer resource, the guard for protected
//! pages and the sign-out button. (Refresh-and-retry of server calls is not here: every
//! server function goes through `api::session_client::SessionClient`.)

use crate::i18n::ui::t;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_location, use_navigate};

use crate::api::auth::{Logout, Viewer, current_viewer};
use crate::components::suspense::render_once;
use crate::error::AppError;
use crate::paths::{self, LoginReason, login_url, refresh_url};

/// The signed-in state shared by the header and protected pages.
#[derive(Clone, Copy)]
pub struct ViewerContext {
    version: RwSignal<u32>,
    /// Who is looking at the page; refetched after sign-in and sign-out.
    pub viewer: Resource<Result<Viewer, AppError>>,
}

impl ViewerContext {
    /// Call after signing in or out so everything that shows the viewer refreshes.
    pub fn changed(&self) {
        self.version.update(|v| *v += 1);
    }
}

/// Creates the [`ViewerContext`] for the app; called once by `App`.
pub fn provide_viewer_context() {
    let version = RwSignal::new(0_u32);
    let viewer = Resource::new(move || version.get(), |_| current_viewer());
    provide_context(ViewerContext { version, viewer });
}

/// The session context (provided by `App`).
pub fn use_viewer() -> ViewerContext {
    expect_context::<ViewerContext>()
}

/// Shows `children` only to a signed-in viewer. Everyone else is redirected (a 302 when
/// rendered on the server): an expired access token to `/refresh`, which renews it and
/// comes back; a signed-out device to `/login` with the reason; anyone else to `/login`.
/// Either way `next` brings them back here afterwards.
///
/// Create the page's resources in the page component, outside this, and read them in
/// `children`. While it renders on the server, Leptos runs the content of a `Suspense`
/// up to three times (to find every resource read in it), so a resource created in
/// `children` would be loaded, and sent to the browser, once per run: `/devices` did
/// every query three times (`protected_pages_load_each_of_their_data_once`). This is
/// Leptos's advice too: create resources at the route, read them in the `Suspense`.
/// Read them in a `Suspense` or `Transition` of their own inside `children`, as every
/// page here does: `children` are built once the viewer is known ([`render_once`]), so a
/// read directly in them would not hold this one back.
#[component]
pub fn RequireSignIn(children: ChildrenFn) -> impl IntoView {
    let session = use_viewer();
    let location = use_location();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="muted">{t("loading")}</p> }>
            {move || Suspend::new(async move {
                let here = location.pathname.get_untracked();
                match render_once(session.viewer).await {
                    Ok(Viewer::SignedIn { .. }) => children.read_value()().into_any(),
                    Ok(Viewer::AccessTokenExpired) => view! { <Redirect path=refresh_url(&here)/> }.into_any(),
                    Ok(Viewer::Revoked) => view! { <Redirect path=login_url(&here, Some(LoginReason::Revoked))/> }.into_any(),
                    Ok(Viewer::SignedOut) | Err(_) => view! { <Redirect path=login_url(&here, None)/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The header's "Sign out" button: a form, so it works before hydration too.
#[component]
pub fn SignOutButton() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let session = use_viewer();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            session.changed();
            navigate(&paths::LOGIN.path(), NavigateOptions::default());
        }
    });
    view! {
        <ActionForm action=logout attr:class="inline-form">
            <button type="submit" class="button button--secondary button--small">{t("nav-sign-out")}</button>
        </ActionForm>
    }
}
