//! "Connected accounts" on `/account`: the OpenID providers linked to the account, when,
//! and the address each gave; connecting another (a plain form to the provider, in sudo
//! mode) and disconnecting one (sudo mode; never the account's last way in).

use crate::i18n::ui::{t, t_with};
use leptos::prelude::*;

use crate::api::oidc::{ConnectedList, UnlinkProvider, connected_accounts};
use crate::components::form::FormError;
use crate::components::sudo::{SudoFields, follow_sudo};
use crate::components::suspense::render_once;
use crate::components::time::RelativeTime;
use crate::error::AppError;

/// What the section shows, loaded by the page outside its sign-in check (see
/// `RequireSignIn`), and reloaded after a disconnection.
#[derive(Clone, Copy)]
pub struct ConnectedData {
    unlink: ServerAction<UnlinkProvider>,
    list: Resource<Result<ConnectedList, AppError>>,
}

impl ConnectedData {
    /// Starts loading the list.
    pub fn load() -> Self {
        let unlink = ServerAction::<UnlinkProvider>::new();
        let list = Resource::new(move || unlink.version().get(), |_| connected_accounts());
        Self { unlink, list }
    }
}

/// The section; nothing when no provider is configured and none is connected.
#[component]
pub fn ConnectedAccountsSection(
    /// The list and the disconnect action, from [`ConnectedData::load`].
    data: ConnectedData,
) -> impl IntoView {
    let ConnectedData { unlink, list } = data;
    follow_sudo(unlink.value().into());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let list = match render_once(list).await {
                    Ok(list) => list,
                    Err(err) => return Some(view! { <p class="alert alert--error" role="alert">{err.to_string()}</p> }.into_any()),
                };
                if list.connected.is_empty() && list.available.is_empty() {
                    return None;
                }
                let (now, last) = (list.now, list.last_is_only_way_in);
                Some(view! {
                    <section class="card settings-card" aria-labelledby="connected-heading" data-testid="connected-accounts">
                        <h3 id="connected-heading">{t("connected-title")}</h3>
                        <p>{t("connected-intro")}</p>
                        {list.connected.is_empty().then(|| view! { <p class="muted">{t("connected-none")}</p> })}
                        <ul class="item-list">
                            {list.connected.into_iter().map(|connected| {
                                let sudo_id = format!("unlink-{}", connected.provider_id);
                                let label = t_with("connected-disconnect-label", &[("provider", connected.provider.clone().into())]);
                                view! {
                                    <li class="item" data-testid="connected-account">
                                        <div class="item__text">
                                            <strong>{connected.provider}</strong>
                                            <span class="muted">{connected.email}</span>
                                            <span class="muted">{t("connected-since")} " " <RelativeTime at=connected.linked_at now/></span>
                                        </div>
                                        {if last {
                                            view! { <p class="field__hint item__note">{t("connected-last")}</p> }.into_any()
                                        } else {
                                            view! {
                                                <ActionForm action=unlink attr:class="form form--inline">
                                                    <input type="hidden" name="id" value=connected.id/>
                                                    <SudoFields id=sudo_id/>
                                                    <button type="submit" class="button button--secondary" aria-label=label>{t("connected-disconnect")}</button>
                                                </ActionForm>
                                            }.into_any()
                                        }}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <FormError result=unlink.value().into()/>
                        {list.available.into_iter().map(|provider| {
                            let sudo_id = format!("link-{}", provider.id);
                            view! {
                                <form method="post" action=provider.action class="form form--inline">
                                    <input type="hidden" name="purpose" value="link"/>
                                    <SudoFields id=sudo_id/>
                                    <button type="submit" class="button">{t_with("connected-connect", &[("provider", provider.name.into())])}</button>
                                </form>
                            }
                        }).collect_view()}
                    </section>
                }.into_any())
            })}
        </Transition>
    }
}
