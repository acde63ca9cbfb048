//! The menu tree menuconfig walks: every option placed in the menu its
//! declaration names ([`crate::cli::configcmd::menu_path`]), submenus as entries
//! of their parent; submenus first (by title), then options (by name).

use crate::cli::configcmd::menu_path;
use crate::load::config::Schema;
use std::collections::BTreeMap;

/// All menus; `menus[0]` is the top menu.
#[derive(Debug, Clone)]
pub struct Tree {
    pub menus: Vec<Menu>,
    /// Option name → index of the menu holding it.
    home: BTreeMap<String, usize>,
}

#[derive(Debug, Clone)]
pub struct Menu {
    pub title: String,
    pub parent: Option<usize>,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A submenu, by index in [`Tree::menus`].
    Menu(usize),
    /// An option, by name.
    Option(String),
}

impl Tree {
    pub fn new(schema: &Schema) -> Tree {
        let mut tree = Tree {
            menus: vec![Menu {
                title: String::new(),
                parent: None,
                entries: Vec::new(),
            }],
            home: BTreeMap::new(),
        };
        for (name, d) in &schema.options {
            let mut at = 0;
            for title in menu_path(d) {
                at = tree.child(at, &title);
            }
            tree.menus[at].entries.push(Entry::Option(name.clone()));
            tree.home.insert(name.clone(), at);
        }
        let titles: Vec<String> = tree.menus.iter().map(|m| m.title.clone()).collect();
        for m in &mut tree.menus {
            // Stable: options keep their (name) order behind the submenus.
            m.entries.sort_by(|a, b| match (a, b) {
                (Entry::Menu(x), Entry::Menu(y)) => titles[*x].cmp(&titles[*y]),
                (Entry::Menu(_), Entry::Option(_)) => std::cmp::Ordering::Less,
                (Entry::Option(_), Entry::Menu(_)) => std::cmp::Ordering::Greater,
                (Entry::Option(_), Entry::Option(_)) => std::cmp::Ordering::Equal,
            });
        }
        tree
    }

    /// The submenu `title` of menu `parent`, created if missing.
    fn child(&mut self, parent: usize, title: &str) -> usize {
        let existing = self.menus[parent].entries.iter().find_map(|e| match e {
            Entry::Menu(i) if self.menus[*i].title == title => Some(*i),
            _ => None,
        });
        existing.unwrap_or_else(|| {
            self.menus.push(Menu {
                title: title.to_string(),
                parent: Some(parent),
                entries: Vec::new(),
            });
            let i = self.menus.len() - 1;
            self.menus[parent].entries.push(Entry::Menu(i));
            i
        })
    }

    /// Where option `name` is: the menus from the top down to its own, each
    /// with the index of the entry leading on (the last: the option itself).
    pub fn locate(&self, name: &str) -> Option<Vec<(usize, usize)>> {
        let mut menu = *self.home.get(name)?;
        let mut entry = Entry::Option(name.to_string());
        let mut path = Vec::new();
        loop {
            let index = self.menus[menu].entries.iter().position(|e| *e == entry)?;
            path.push((menu, index));
            match self.menus[menu].parent {
                Some(p) => {
                    entry = Entry::Menu(menu);
                    menu = p;
                }
                None => break,
            }
        }
        path.reverse();
        Some(path)
    }

    /// The titles from the top menu down to `menu`, joined with ` > `.
    pub fn breadcrumb(&self, menu: usize) -> String {
        let mut titles = Vec::new();
        let mut at = Some(menu);
        while let Some(m) = at {
            if !self.menus[m].title.is_empty() {
                titles.push(self.menus[m].title.as_str());
            }
            at = self.menus[m].parent;
        }
        titles.reverse();
        titles.join(" > ")
    }
}
