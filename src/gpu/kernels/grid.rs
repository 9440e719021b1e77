//! Dispatch grids as kernel headers state them, `(ceil(n / 64), rows, 1)` or
//! `fold(ceil(n / 64))`: expressions over the fields of the kernel's `Params`, evaluated for
//! every launch. The planner never matches a kernel's name to choose its grid.

use std::fmt;

/// One of the three workgroup counts.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Number(f64),
    /// A `Params` field, read as a u32.
    Field(String),
    Binary(Box<Expr>, char, Box<Expr>),
    /// `ceil`, `floor`, `min`, `max`.
    Call(String, Vec<Expr>),
}

/// How many workgroups a launch runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Grid {
    /// Three counts, x, y and z.
    Xyz([Expr; 3]),
    /// One count laid along x, folded into y rows of x-width past the device's per-dimension
    /// limit; the kernel rebuilds its index from `num_workgroups`.
    Fold(Expr),
}

/// Where parsing stopped (a 0-based character offset into the text) and why.
#[derive(Debug, PartialEq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn error<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            offset: self.at,
            message: message.into(),
        })
    }

    fn skip_space(&mut self) {
        while self.text[self.at..].starts_with(' ') {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_space();
        self.text[self.at..].chars().next()
    }

    fn expect(&mut self, c: char) -> Result<(), ParseError> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            let found = self
                .peek()
                .map_or("the end".to_string(), |f| format!("`{f}`"));
            self.error(format!("expected `{c}`, found {found}"))
        }
    }

    fn word(&mut self) -> &str {
        self.skip_space();
        let start = self.at;
        let len = self.text[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(self.text.len() - start);
        self.at += len;
        &self.text[start..self.at]
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.term()?;
        while let Some(op @ ('+' | '-')) = self.peek() {
            self.at += 1;
            left = Expr::Binary(Box::new(left), op, Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.atom()?;
        while let Some(op @ ('*' | '/')) = self.peek() {
            self.at += 1;
            left = Expr::Binary(Box::new(left), op, Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Expr, ParseError> {
        if self.peek() == Some('(') {
            self.at += 1;
            let inner = self.expr()?;
            self.expect(')')?;
            return Ok(inner);
        }
        let start = self.at;
        let word = self.word().to_string();
        if word.is_empty() {
            return self.error("expected a number, a Params field or ceil/floor/min/max(...)");
        }
        if word.starts_with(|c: char| c.is_ascii_digit()) {
            return match word.parse::<f64>() {
                Ok(n) => Ok(Expr::Number(n)),
                Err(_) => {
                    self.at = start;
                    self.error(format!("`{word}` is not a number"))
                }
            };
        }
        if self.peek() != Some('(') {
            return Ok(Expr::Field(word));
        }
        let arity = match word.as_str() {
            "ceil" | "floor" => 1,
            "min" | "max" => 2,
            _ => {
                self.at = start;
                return self.error(format!(
                    "unknown function `{word}`: the functions are ceil, floor, min and max"
                ));
            }
        };
        self.at += 1;
        let mut args = vec![self.expr()?];
        while args.len() < arity {
            self.expect(',')?;
            args.push(self.expr()?);
        }
        self.expect(')')?;
        Ok(Expr::Call(word, args))
    }
}

impl Grid {
    /// Parses `(X, Y, Z)` or `fold(N)`.
    pub fn parse(text: &str) -> Result<Grid, ParseError> {
        // The parser recurses per bracket and operator: a bound keeps a hostile header from
        // overflowing the stack.
        const LONGEST: usize = 400;
        if text.len() > LONGEST {
            return Err(ParseError {
                offset: LONGEST,
                message: format!("a grid of {} characters; at most {LONGEST}", text.len()),
            });
        }
        let mut parser = Parser { text, at: 0 };
        let grid = if text.trim_start().starts_with("fold") {
            parser.word();
            parser.expect('(')?;
            let count = parser.expr()?;
            parser.expect(')')?;
            Grid::Fold(count)
        } else {
            parser.expect('(')?;
            let x = parser.expr()?;
            parser.expect(',')?;
            let y = parser.expr()?;
            parser.expect(',')?;
            let z = parser.expr()?;
            parser.expect(')')?;
            Grid::Xyz([x, y, z])
        };
        if parser.peek().is_some() {
            return parser.error("unexpected text after the grid");
        }
        Ok(grid)
    }

    /// Every field name the grid reads.
    pub fn fields(&self) -> Vec<&str> {
        fn walk<'a>(expr: &'a Expr, out: &mut Vec<&'a str>) {
            match expr {
                Expr::Number(_) => {}
                Expr::Field(name) => out.push(name),
                Expr::Binary(a, _, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Expr::Call(_, args) => args.iter().for_each(|a| walk(a, out)),
            }
        }
        let mut out = Vec::new();
        match self {
            Grid::Xyz(counts) => counts.iter().for_each(|e| walk(e, &mut out)),
            Grid::Fold(count) => walk(count, &mut out),
        }
        out
    }

    /// The workgroup counts for these field values, with `limit` the device's most workgroups
    /// per dimension (only `fold` uses it).
    pub fn eval(
        &self,
        field: &dyn Fn(&str) -> Option<u32>,
        limit: u32,
    ) -> Result<[u32; 3], String> {
        match self {
            Grid::Xyz([x, y, z]) => Ok([count(x, field)?, count(y, field)?, count(z, field)?]),
            Grid::Fold(n) => {
                let groups = count(n, field)?.max(1);
                let x = groups.min(limit.max(1));
                Ok([x, groups.div_ceil(x), 1])
            }
        }
    }
}

/// A workgroup count: a whole number from 0 to u32::MAX.
fn count(expr: &Expr, field: &dyn Fn(&str) -> Option<u32>) -> Result<u32, String> {
    let value = eval(expr, field)?;
    if value.fract() != 0.0 || !(0.0..=u32::MAX as f64).contains(&value) {
        return Err(format!(
            "`{expr}` is {value}, not a whole number of workgroups (use ceil(a / b))"
        ));
    }
    Ok(value as u32)
}

// In f64: exact for integers below 2^53, far above any workgroup count a device accepts.
fn eval(expr: &Expr, field: &dyn Fn(&str) -> Option<u32>) -> Result<f64, String> {
    Ok(match expr {
        Expr::Number(n) => *n,
        Expr::Field(name) => f64::from(field(name).ok_or_else(|| format!("no field `{name}`"))?),
        Expr::Binary(a, op, b) => {
            let (a, b) = (eval(a, field)?, eval(b, field)?);
            match op {
                '+' => a + b,
                '-' => a - b,
                '*' => a * b,
                _ if b == 0.0 => return Err(format!("`{expr}` divides by zero")),
                _ => a / b,
            }
        }
        Expr::Call(name, args) => {
            let values = args
                .iter()
                .map(|a| eval(a, field))
                .collect::<Result<Vec<_>, _>>()?;
            match name.as_str() {
                "ceil" => values[0].ceil(),
                "floor" => values[0].floor(),
                "min" => values[0].min(values[1]),
                _ => values[0].max(values[1]),
            }
        }
    })
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number(n) => write!(f, "{n}"),
            Expr::Field(name) => write!(f, "{name}"),
            Expr::Binary(a, op, b) => write!(f, "({a} {op} {b})"),
            Expr::Call(name, args) => {
                let args: Vec<String> = args.iter().map(ToString::to_string).collect();
                write!(f, "{name}({})", args.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(name: &str) -> Option<u32> {
        match name {
            "n" => Some(1000),
            "rows" => Some(5),
            _ => None,
        }
    }

    #[test]
    fn evaluates_counts_from_fields() {
        let grid = Grid::parse("(ceil(n / 64), rows, 1)").unwrap();
        assert_eq!(grid.eval(&fields, 65535), Ok([16, 5, 1]));
        let grid = Grid::parse("(min(ceil(n / 256), 2) * 3 - 1, 4 / 2, floor(rows / 2))").unwrap();
        assert_eq!(grid.eval(&fields, 65535), Ok([5, 2, 2]));
        assert_eq!(grid.fields(), vec!["n", "rows"]);
    }

    #[test]
    fn folds_past_the_limit() {
        let grid = Grid::parse("fold(ceil(n / 64))").unwrap();
        assert_eq!(grid.eval(&fields, 65535), Ok([16, 1, 1]));
        assert_eq!(grid.eval(&fields, 5), Ok([5, 4, 1]));
    }

    #[test]
    fn refuses_fractions_and_unknown_names() {
        let grid = Grid::parse("(n / 64, 1, 1)").unwrap();
        assert!(grid
            .eval(&fields, 65535)
            .unwrap_err()
            .contains("not a whole number"));
        let grid = Grid::parse("(k, 1, 1)").unwrap();
        assert_eq!(grid.eval(&fields, 65535), Err("no field `k`".to_string()));
        let grid = Grid::parse("(n / (rows - 5), 1, 1)").unwrap();
        assert!(grid
            .eval(&fields, 65535)
            .unwrap_err()
            .contains("divides by zero"));
    }

    #[test]
    fn reports_where_parsing_stopped() {
        let error = Grid::parse("(ceil(n / 64), rows)").unwrap_err();
        assert_eq!(error.offset, 19);
        assert!(error.message.contains("expected `,`"));
        let error = Grid::parse("(sqrt(n), 1, 1)").unwrap_err();
        assert_eq!(error.offset, 1);
        assert!(error.message.contains("unknown function `sqrt`"));
        assert!(Grid::parse("(1, 1, 1) extra").is_err());
        let deep = format!("({}1{}, 1, 1)", "(".repeat(100_000), ")".repeat(100_000));
        assert!(Grid::parse(&deep)
            .unwrap_err()
            .message
            .contains("at most 400"));
        assert!(Grid::parse("").is_err());
    }
}
