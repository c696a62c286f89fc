//! Executing scenario steps with WebDriver Actions: the browser sees trusted
//! input, as from a real user (a script `click()` would not end LCP).

use crate::browser::Session;
use crate::scenario::{Step, TypeStep};
use fantoccini::Locator;
use fantoccini::actions::{
    InputSource, KeyAction, KeyActions, MOUSE_BUTTON_LEFT, MouseActions, PointerAction,
    WheelAction, WheelActions,
};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use std::time::Duration;

/// A step that failed, with what the user needs to find it.
#[derive(Debug, thiserror::Error)]
#[error("step {index} `{step}`: {reason}")]
pub struct StepError {
    /// 1-based position in the page's steps.
    pub index: usize,
    /// The step, described.
    pub step: String,
    /// What went wrong.
    pub reason: String,
}

/// Runs one non-navigation step.
pub async fn execute(
    session: &Session,
    step: &Step,
    index: usize,
    timeout: Duration,
) -> Result<(), StepError> {
    let fail = |reason: String| StepError {
        index,
        step: step.describe(),
        reason,
    };
    let work = async {
        match step {
            Step::WaitFor(sel) => find(session, sel, timeout).await.map(|_| ()),
            Step::Click(sel) => click(session, sel, timeout).await,
            Step::WaitMs(ms) => {
                tokio::time::sleep(Duration::from_millis(*ms)).await;
                Ok(())
            }
            Step::Type(TypeStep { selector, text }) => {
                click(session, selector, timeout).await?;
                let mut keys = KeyActions::new("keyboard".into());
                for c in text.chars() {
                    keys = keys
                        .then(KeyAction::Down { value: c })
                        .then(KeyAction::Up { value: c });
                }
                perform(session, keys).await
            }
            Step::Scroll(px) => {
                let wheel = WheelActions::new("wheel".into()).then(WheelAction::Scroll {
                    duration: Some(Duration::from_millis(100)),
                    x: 10,
                    y: 10,
                    delta_x: 0,
                    delta_y: *px,
                });
                perform(session, wheel).await
            }
            Step::Press(name) => {
                let key = key_char(name).ok_or_else(|| {
                    format!("unknown key {name:?}; use a single character or one of Enter, Tab, Escape, Backspace, Space, ArrowUp, ArrowDown, ArrowLeft, ArrowRight, PageDown, PageUp, Home, End")
                })?;
                let keys = KeyActions::new("keyboard".into())
                    .then(KeyAction::Down { value: key })
                    .then(KeyAction::Up { value: key });
                perform(session, keys).await
            }
            Step::Navigate(_) => Err("navigate is handled by the visit, not as a step".into()),
        }
    };
    // Every step, including waits that poll, is bounded by the step timeout.
    match tokio::time::timeout(timeout + Duration::from_secs(1), work).await {
        Ok(result) => result.map_err(fail),
        Err(_) => Err(fail(format!(
            "did not finish within {} ms",
            timeout.as_millis()
        ))),
    }
}

async fn find(session: &Session, sel: &str, timeout: Duration) -> Result<Element, String> {
    session
        .client()
        .wait()
        .at_most(timeout)
        .every(Duration::from_millis(50))
        .for_element(Locator::Css(sel))
        .await
        .map_err(|e| {
            if e.is_invalid_selector() {
                format!("the browser rejects {sel:?} as a CSS selector")
            } else {
                format!(
                    "no element matches {sel:?} after {} ms ({e})",
                    timeout.as_millis()
                )
            }
        })
}

async fn click(session: &Session, sel: &str, timeout: Duration) -> Result<(), String> {
    let element = find(session, sel, timeout).await?;
    // Pointer actions cannot reach elements outside the viewport; bring the
    // element into view first, as a user would scroll to it.
    let arg = serde_json::to_value(&element).map_err(|e| e.to_string())?;
    session
        .client()
        .execute(
            "const r = arguments[0].getBoundingClientRect();
             if (r.bottom < 0 || r.top > innerHeight || r.right < 0 || r.left > innerWidth) arguments[0].scrollIntoView({block: 'center'});",
            vec![arg],
        )
        .await
        .map_err(|e| format!("cannot scroll {sel:?} into view: {e}"))?;
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element,
            duration: Some(Duration::from_millis(20)),
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    perform(session, mouse)
        .await
        .map_err(|e| format!("cannot click {sel:?}: {e}"))
}

async fn perform(session: &Session, source: impl InputSource) -> Result<(), String> {
    let client = session.client();
    client
        .perform_actions(source)
        .await
        .map_err(|e| e.to_string())?;
    client.release_actions().await.map_err(|e| e.to_string())
}

/// The WebDriver key code for a key name (`Enter`) or a single character.
fn key_char(name: &str) -> Option<char> {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Some(c);
    }
    let key = match name.to_ascii_lowercase().as_str() {
        "enter" | "return" => Key::Enter,
        "tab" => Key::Tab,
        "escape" | "esc" => Key::Escape,
        "backspace" => Key::Backspace,
        "space" => return Some(' '),
        "arrowup" | "up" => Key::Up,
        "arrowdown" | "down" => Key::Down,
        "arrowleft" | "left" => Key::Left,
        "arrowright" | "right" => Key::Right,
        "pagedown" => Key::PageDown,
        "pageup" => Key::PageUp,
        "home" => Key::Home,
        "end" => Key::End,
        _ => return None,
    };
    Some(key.into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_names_map_to_webdriver_codes() {
        assert_eq!(super::key_char("a"), Some('a'));
        assert_eq!(super::key_char("Enter"), Some('\u{E007}'));
        assert_eq!(super::key_char("Space"), Some(' '));
        assert_eq!(super::key_char("Hyper"), None);
    }
}
