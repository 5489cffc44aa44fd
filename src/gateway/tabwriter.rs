//! Go's `text/tabwriter` as the reference's subrequest printers configure it (minimum width 0,
//! tab width 0, space padding, no flags): tab-terminated cells line up in columns; a column
//! spans the consecutive lines that have a cell in it.

/// Aligns `text` (one flush of a tabwriter) with `padding` spaces after each column's widest
/// cell. Widths count characters, as Go counts runes.
pub fn align(text: &str, padding: usize) -> String {
    let lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
    let mut table = Table {
        lines,
        padding,
        out: String::with_capacity(text.len()),
    };
    let count = table.lines.len();
    table.format(&mut Vec::new(), 0, count);
    table.out
}

struct Table<'a> {
    /// Each line's cells; all but the last one were ended by a tab.
    lines: Vec<Vec<&'a str>>,
    padding: usize,
    out: String,
}

impl Table<'_> {
    /// Whether line `i` has a tab-terminated cell in `column`.
    fn has_column(&self, i: usize, column: usize) -> bool {
        self.lines.get(i).is_some_and(|l| column + 1 < l.len())
    }

    /// Go's `Writer.format`: the lines `line0..line1` share the columns in `widths`; each run
    /// of them with one more column gets that column's width, recursively.
    fn format(&mut self, widths: &mut Vec<usize>, mut line0: usize, line1: usize) {
        let column = widths.len();
        let mut this = line0;
        while this < line1 {
            if !self.has_column(this, column) {
                this += 1;
                continue;
            }
            self.write_lines(widths, line0, this);
            line0 = this;
            let mut width = 0;
            while this < line1 && self.has_column(this, column) {
                let cell = self.lines[this]
                    .get(column)
                    .map_or(0, |c| c.chars().count());
                width = width.max(cell + self.padding);
                this += 1;
            }
            widths.push(width);
            self.format(widths, line0, this);
            widths.pop();
            line0 = this;
        }
        self.write_lines(widths, line0, line1);
    }

    fn write_lines(&mut self, widths: &[usize], line0: usize, line1: usize) {
        let last = self.lines.len().saturating_sub(1);
        for i in line0..line1 {
            let Some(line) = self.lines.get(i) else {
                continue;
            };
            for (j, cell) in line.iter().enumerate() {
                self.out.push_str(cell);
                if let Some(width) = widths.get(j) {
                    let pad = width.saturating_sub(cell.chars().count());
                    self.out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            if i != last {
                self.out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::align;

    #[test]
    fn columns_take_the_widest_cell_plus_padding() {
        let text = "TARGET\tDESCRIPTION\nbuild\tcompiles it\nbinary (default)\t\n";
        assert_eq!(
            align(text, 1),
            "TARGET           DESCRIPTION\nbuild            compiles it\nbinary (default) \n"
        );
    }

    #[test]
    fn a_line_without_the_column_ends_its_block() {
        let text = "a\tb\nlonger\tc\nno tabs\nx\ty\n";
        assert_eq!(align(text, 3), "a        b\nlonger   c\nno tabs\nx   y\n");
    }

    #[test]
    fn widths_count_characters_not_bytes() {
        assert_eq!(align("é\tx\nab\ty\n", 1), "é  x\nab y\n");
    }
}
