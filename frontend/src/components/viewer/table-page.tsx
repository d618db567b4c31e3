"use client";

import { useEffect, useRef } from "react";

/** Rows around the first cited row rendered at once: a sheet can have 200,000 rows. */
const WINDOW_ROWS = 400;
const ROW_SEPARATOR = "\n\n";
const CELL_SEPARATOR = " | ";

type TablePageProps = {
  /** The sheet as DocChat stored it: rows separated by a blank line, cells by " | ". */
  text: string;
  /** The sheet's row number of each row of `text`; the first row is the header. */
  rowNumbers: number[];
  /** [start, end) offsets into `text`: the rows they touch are the cited rows. */
  marks: [number, number][];
  fontScale: number;
};

type Row = { number: number; cells: string[]; start: number; end: number };

function splitRows(text: string, rowNumbers: number[]): Row[] {
  const rows: Row[] = [];
  let start = 0;
  for (const [index, line] of text.split(ROW_SEPARATOR).entries()) {
    rows.push({ number: rowNumbers[index] ?? index + 1, cells: line.split(CELL_SEPARATOR), start, end: start + line.length });
    start += line.length + ROW_SEPARATOR.length;
  }
  return rows;
}

/**
 * A spreadsheet page (a sheet, a CSV file) as a table with the sheet's own row numbers, the
 * cited rows marked and scrolled into view. Cells are text nodes only.
 */
export function TablePage({ text, rowNumbers, marks, fontScale }: TablePageProps) {
  const containerRef = useRef<HTMLDivElement>(null);
  const rows = splitRows(text, rowNumbers);
  const [header, ...body] = rows;
  const isCited = (row: Row) => marks.some(([start, end]) => start < row.end && end > row.start);
  const firstCited = body.findIndex(isCited);
  const from = Math.max(0, (firstCited < 0 ? 0 : firstCited) - WINDOW_ROWS / 2);
  const shown = body.slice(from, from + WINDOW_ROWS);
  const columns = Math.max(...rows.map((row) => row.cells.length));
  const markKey = marks.map((mark) => mark.join("-")).join(",");

  useEffect(() => {
    containerRef.current?.querySelector("[data-cited='true']")?.scrollIntoView({ block: "center" });
  }, [text, markKey]);

  if (!header) return null;
  const pad = (cells: string[]) => [...cells, ...new Array<string>(Math.max(0, columns - cells.length)).fill("")];
  return (
    <div ref={containerRef} className="rounded bg-white px-3 pb-3 shadow" style={{ fontSize: `${fontScale * 0.875}rem` }} data-testid="table-page">
      {shown.length < body.length ? (
        <p className="pt-3 pb-2 text-xs text-slate-600" data-testid="table-window">
          Rows {shown[0]?.number}–{shown[shown.length - 1]?.number} of this sheet are shown (it has {body.length.toLocaleString()} rows).
        </p>
      ) : null}
      <table className="w-full border-collapse text-left">
        <thead>
          <tr className="bg-slate-100">
            <th scope="col" className="sticky -top-3 border border-slate-300 bg-slate-100 px-2 py-1 text-right font-normal text-slate-600">
              <span className="sr-only">Row</span>
              {header.number}
            </th>
            {pad(header.cells).map((cell, index) => (
              <th key={index} scope="col" className="sticky -top-3 border border-slate-300 bg-slate-100 px-2 py-1 font-semibold text-slate-900">
                {cell}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((row) => {
            const cited = isCited(row);
            return (
              <tr
                key={row.number}
                data-row={row.number}
                data-cited={cited ? "true" : undefined}
                data-testid={cited ? "viewer-highlight-row" : undefined}
                className={cited ? "viewer-highlight" : undefined}
              >
                <th scope="row" className="border border-slate-300 px-2 py-1 text-right font-normal text-slate-600">
                  {row.number}
                </th>
                {pad(row.cells).map((cell, index) => (
                  <td key={index} className="border border-slate-300 px-2 py-1 align-top text-slate-900">
                    {cell}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
