//! A real OpenID provider for the tests: panva's `oidc-provider` (npm, OpenID-certified)
//! run by `end2end/oidc/provider.mjs` on 127.0.0.1, with its own login page, which
//! [`ProviderBrowser`] fills in like a person would.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{Browser, Client};

/// The provider's script (its `oidc-provider` comes from `end2end/node_modules`, which
/// `make test` installs before the Rust passes).
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/oidc/provider.mjs");

/// The client Gatehouse is registered as.
pub const CLIENT_ID: &str = "gatehouse-test";
pub const CLIENT_SECRET: &str = "a test client secret";

/// A running provider; stopped when dropped.
pub struct OidcProvider {
    pub issuer: String,
    pub port: u16,
    redirect_uris: Vec<String>,
    child: Option<Child>,
}

impl OidcProvider {
    /// Starts a provider on a free port that accepts Gatehouse's client for these
    /// redirect URIs.
    pub fn start(redirect_uris: &[String]) -> Self {
        Self::start_on(0, redirect_uris)
    }

    /// Starts one on `port` (0: any free one).
    pub fn start_on(port: u16, redirect_uris: &[String]) -> Self {
        let mut provider = Self {
            issuer: String::new(),
            port,
            redirect_uris: redirect_uris.to_vec(),
            child: None,
        };
        provider.restart();
        provider
    }

    /// (Re)starts it on the same port: a new signing key (a new `kid`), and every
    /// session and code it held is gone.
    pub fn restart(&mut self) {
        self.stop();
        let clients = serde_json::json!([{
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": self.redirect_uris,
        }]);
        let node = std::env::var("GATEHOUSE_TEST_NODE").unwrap_or_else(|_| "node".to_owned());
        let mut child = Command::new(&node)
            .arg(SCRIPT)
            .env("OIDC_PORT", self.port.to_string())
            .env("OIDC_CLIENTS", clients.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!("cannot run {node} {SCRIPT} ({err}): the OpenID tests need Node.js and `npm ci` in end2end/")
            });
        // Its first line, read on a thread so a provider that never says it is listening
        // fails the test instead of holding it.
        let stdout = child.stdout.take().unwrap();
        let (said_tx, said_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = said_tx.send(line);
            // Keep draining: a closed pipe would end the provider at its next write.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = said_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the test provider did not start within 30 s");
        let said: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("the test provider did not start: {line:?}"));
        self.issuer = said["issuer"].as_str().unwrap().to_owned();
        self.port = url::Url::parse(&self.issuer).unwrap().port().unwrap();
        self.child = Some(child);
    }

    /// Stops it (its port refuses connections until [`OidcProvider::restart`]).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// An `OIDC_PROVIDERS_FILE` naming this provider as `id`, written into `dir`.
    pub fn providers_file(&self, dir: &std::path::Path, id: &str, trust_email: bool) -> String {
        providers_file(dir, &[(id, &self.issuer, trust_email)])
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An `OIDC_PROVIDERS_FILE` with one provider per `(id, issuer, trust_email)`, each
/// named "<Id> ID", written into `dir`; returns its path.
pub fn providers_file(dir: &std::path::Path, providers: &[(&str, &str, bool)]) -> String {
    let mut text = String::new();
    for (id, issuer, trust) in providers {
        text.push_str(&format!(
            "[[provider]]\nid = \"{id}\"\nname = \"{} ID\"\nissuer = \"{issuer}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\ntrust_email = {trust}\n\n",
            id.to_uppercase()
        ));
    }
    let path = dir.join("providers.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Who signs in at the provider's login page.
#[derive(Debug, Clone)]
pub struct ProviderAccount {
    pub email: String,
    pub verified: bool,
    /// Empty: derived from the address by the provider.
    pub subject: String,
}

impl ProviderAccount {
    pub fn verified(email: &str) -> Self {
        Self {
            email: email.to_owned(),
            verified: true,
            subject: String::new(),
        }
    }
}

/// A browser at the provider: its cookies there, and no redirects followed.
pub struct ProviderBrowser {
    http: reqwest::Client,
    cookies: Vec<(String, String)>,
}

impl Default for ProviderBrowser {
    fn default() -> Self {
        Self {
            http: super::http_client_builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            cookies: Vec::new(),
        }
    }
}

impl ProviderBrowser {
    fn keep(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str().unwrap();
            let pair = value.split(';').next().unwrap();
            let (name, content) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !content.is_empty() {
                self.cookies.push((name.to_owned(), content.to_owned()));
            }
        }
    }

    fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, url: &str) -> reqwest::Response {
        let response = self
            .http
            .get(url)
            .header("cookie", self.header())
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }

    /// Follows the provider's redirects from `url` (the authorization URL), signing in
    /// as `account` when its login page shows, until it sends the browser elsewhere:
    /// returns that URL (Gatehouse's callback, with `code`, `state` and `iss`).
    pub async fn authorize(&mut self, url: &str, account: &ProviderAccount) -> String {
        let mut url = url.to_owned();
        for _ in 0..10 {
            let response = self.get(&url).await;
            if response.status().is_redirection() {
                let location = location(&response);
                let next = url::Url::parse(&url).unwrap().join(&location).unwrap();
                if !same_origin(&next, &url) {
                    return next.to_string();
                }
                url = next.to_string();
                continue;
            }
            assert_eq!(response.status(), 200, "the provider's page at {url}");
            let page = response.text().await.unwrap();
            assert!(page.contains("Test identity provider"), "{page}");
            let mut form = vec![
                ("email", account.email.clone()),
                ("sub", account.subject.clone()),
            ];
            if account.verified {
                form.push(("verified", "yes".to_owned()));
            }
            let response = self
                .http
                .post(&url)
                .header("cookie", self.header())
                .form(&form)
                .send()
                .await
                .unwrap();
            self.keep(&response);
            assert!(response.status().is_redirection(), "{}", response.status());
            let location = location(&response);
            let next = url::Url::parse(&url).unwrap().join(&location).unwrap();
            if !same_origin(&next, &url) {
                return next.to_string();
            }
            url = next.to_string();
        }
        panic!("the provider kept redirecting");
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

fn same_origin(a: &url::Url, b: &str) -> bool {
    let b = url::Url::parse(b).unwrap();
    a.origin() == b.origin()
}

/// Starts a sign-in (or a link, or a re-authentication: `form`) at Gatehouse's
/// provider `id` in `browser`: returns the provider URL Gatehouse sent it to.
pub async fn start(
    client: &Client,
    browser: &mut Browser,
    id: &str,
    form: &[(&str, &str)],
) -> String {
    let response = browser
        .post(client, &format!("/auth/oidc/{id}/start"), form)
        .await;
    assert_eq!(response.status(), 303, "start");
    location(&response)
}

/// Brings the provider's answer (`callback`, a full URL) back to Gatehouse in
/// `browser`: returns where Gatehouse sends it next.
pub async fn finish(client: &Client, browser: &mut Browser, callback: &str) -> String {
    let url = url::Url::parse(callback).unwrap();
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let response = browser.get(client, &path).await;
    assert_eq!(response.status(), 303, "callback");
    location(&response)
}

/// The whole dance for `account`: start, the provider's login page, the callback.
/// Returns where Gatehouse sends the browser at the end.
pub async fn sign_in_with(
    client: &Client,
    browser: &mut Browser,
    id: &str,
    account: &ProviderAccount,
) -> String {
    let authorize = start(client, browser, id, &[("next", "/devices")]).await;
    let callback = ProviderBrowser::default()
        .authorize(&authorize, account)
        .await;
    finish(client, browser, &callback).await
}
