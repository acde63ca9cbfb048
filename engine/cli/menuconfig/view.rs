//! Drawing the menuconfig model with ratatui: a title bar, the current
//! menu's rows (the cursor's row marked `> `), a status line, a key hint
//! line, and popups for choices, search, help and the quit question. Reads
//! the model only; all behaviour is in the model.

use super::model::{Mode, Model};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, List, ListItem, ListState, Paragraph, Wrap};

const BROWSE_KEYS: &str =
    "Enter open/edit  Space toggle  / search  ? help  s save  q quit  Esc back";

/// Draws the whole screen; `title` names the `.config` being edited.
pub fn draw(frame: &mut Frame, model: &Model, title: &str) {
    let [top, body, status, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());

    let modified = if model.changed() { "  [modified]" } else { "" };
    let bar = Paragraph::new(format!(" forge menuconfig — {title}{modified}"))
        .style(Style::new().add_modifier(Modifier::REVERSED));
    frame.render_widget(bar, top);

    let crumb = model.breadcrumb();
    let crumb = if crumb.is_empty() {
        "forge options".to_string()
    } else {
        crumb
    };
    let items: Vec<ListItem> = model
        .rows()
        .into_iter()
        .map(|r| {
            let style = if r.dimmed {
                Style::new().fg(Color::DarkGray)
            } else {
                Style::new()
            };
            ListItem::new(r.text).style(style)
        })
        .collect();
    let list = List::new(items)
        .block(Block::bordered().title(format!(" {crumb} ")))
        .highlight_symbol("> ")
        .highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = ListState::default().with_selected(Some(model.cursor()));
    frame.render_stateful_widget(list, body, &mut state);

    draw_status(frame, model, status, keys);
    match model.mode() {
        Mode::Browse | Mode::Edit { .. } => {}
        Mode::Pick { name, cursor } => draw_pick(frame, model, body, name, *cursor),
        Mode::Search { query, cursor } => draw_search(frame, model, body, query, *cursor),
        Mode::Help { name, scroll } => {
            let text: Vec<Line> = model.help_lines(name).into_iter().map(Line::from).collect();
            let area = centered(body, body.width.saturating_sub(8), body.height);
            frame.render_widget(Clear, area);
            let help = Paragraph::new(text)
                .block(Block::bordered().title(format!(" {name} ")))
                .wrap(Wrap { trim: false })
                .scroll((*scroll, 0));
            frame.render_widget(help, area);
        }
        Mode::ConfirmQuit => {
            let area = centered(body, 60, 5);
            frame.render_widget(Clear, area);
            let text = vec![
                Line::from("Save your changes to the .config?"),
                Line::from(""),
                Line::from("y: save and quit   n: quit without saving   Esc: back"),
            ];
            let ask = Paragraph::new(text).block(Block::bordered().title(" Quit "));
            frame.render_widget(ask, area);
        }
    }
}

fn draw_status(frame: &mut Frame, model: &Model, status: Rect, keys: Rect) {
    let warn = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
    let (line, hint): (String, String) = match model.mode() {
        Mode::Edit {
            name,
            buffer,
            cursor,
        } => {
            let prefix = format!(" {name}: ");
            let at = prefix.chars().count() + buffer.chars().take(*cursor).count();
            let x = status
                .x
                .saturating_add(u16::try_from(at).unwrap_or(u16::MAX));
            frame.set_cursor_position((x.min(status.right().saturating_sub(1)), status.y));
            let hint = model.status().map(str::to_string).unwrap_or_else(|| {
                " Enter accept  Esc cancel  Ctrl-U clear  ←→ Home End move".to_string()
            });
            (format!("{prefix}{buffer}"), hint)
        }
        Mode::Pick { .. } => (String::new(), " ↑↓ move  Enter pick  Esc cancel".into()),
        Mode::Search { .. } => (
            String::new(),
            " type to filter  ↑↓ move  Enter go to option  Esc cancel".into(),
        ),
        Mode::Help { .. } => (String::new(), " ↑↓ scroll  any other key closes".into()),
        Mode::ConfirmQuit => (
            String::new(),
            " y save and quit  n discard  Esc back".into(),
        ),
        Mode::Browse => {
            let line = match (model.status(), model.focused()) {
                (Some(s), _) => format!(" {s}"),
                (None, Some(name)) => {
                    let row = model.rows().into_iter().nth(model.cursor());
                    match row.and_then(|r| r.lock) {
                        Some(why) => format!(" {name}: locked, {why}"),
                        None => format!(" {name}"),
                    }
                }
                (None, None) => " Enter opens the submenu".to_string(),
            };
            (line, format!(" {BROWSE_KEYS}"))
        }
    };
    let line_style = if model.status().is_some() && !matches!(model.mode(), Mode::Edit { .. }) {
        warn
    } else {
        Style::new()
    };
    frame.render_widget(Paragraph::new(line).style(line_style), status);
    let hint_style = if matches!(model.mode(), Mode::Edit { .. }) && model.status().is_some() {
        warn
    } else {
        Style::new().fg(Color::DarkGray)
    };
    frame.render_widget(Paragraph::new(hint).style(hint_style), keys);
}

fn draw_pick(frame: &mut Frame, model: &Model, body: Rect, name: &str, cursor: usize) {
    let choices = model.choices(name);
    if choices.is_empty() {
        return;
    }
    let height = u16::try_from(choices.len() + 2).unwrap_or(u16::MAX);
    let area = centered(body, 40, height);
    frame.render_widget(Clear, area);
    let list = List::new(choices)
        .block(Block::bordered().title(format!(" {} ", model.prompt(name))))
        .highlight_symbol("> ")
        .highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = ListState::default().with_selected(Some(cursor));
    frame.render_stateful_widget(list, area, &mut state);
}

fn draw_search(frame: &mut Frame, model: &Model, body: Rect, query: &str, cursor: usize) {
    let area = centered(body, body.width.saturating_sub(4), body.height);
    frame.render_widget(Clear, area);
    let block = Block::bordered().title(" Search by symbol or prompt ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [input, results] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(inner);
    frame.render_widget(Paragraph::new(format!(" / {query}")), input);
    let x = input.x + 3 + u16::try_from(query.chars().count()).unwrap_or(0);
    frame.set_cursor_position((x.min(input.right().saturating_sub(1)), input.y));
    let found = model.search(query);
    let items: Vec<ListItem> = found
        .iter()
        .map(|n| {
            let prompt = model.prompt(n);
            let prompt = if prompt == *n {
                String::new()
            } else {
                format!(" \"{prompt}\"")
            };
            ListItem::new(format!("{n}{prompt}  [{}]", model.menu_of(n)))
        })
        .collect();
    let count = found.len();
    let list = List::new(items)
        .block(Block::new().title(format!(" {count} found ")))
        .highlight_symbol("> ")
        .highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let selected = (count > 0).then(|| cursor.min(count - 1));
    let mut state = ListState::default().with_selected(selected);
    frame.render_stateful_widget(list, results, &mut state);
}

/// A `width` × `height` rectangle centred in `area` (clipped to it).
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
