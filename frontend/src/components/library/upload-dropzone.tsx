"use client";

import { useRef, type ChangeEvent } from "react";
import { useDropzone, type FileRejection } from "react-dropzone";

/** What the API accepts (type is detected from content on the server; this guides the picker). */
export const ACCEPTED_TYPES = {
  "application/pdf": [".pdf"],
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": [".docx"],
  "text/html": [".html", ".htm"],
  "text/markdown": [".md", ".markdown"],
  "text/plain": [".txt"],
  "text/csv": [".csv"],
  "text/tab-separated-values": [".tsv", ".tab"],
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": [".xlsx"],
  "application/vnd.ms-excel": [".xls"],
  "application/vnd.openxmlformats-officedocument.presentationml.presentation": [".pptx"],
  "application/epub+zip": [".epub"],
  "image/png": [".png"],
  "image/jpeg": [".jpg", ".jpeg"],
  "image/tiff": [".tif", ".tiff"],
  "image/webp": [".webp"],
};

const SUPPORTED_FORMATS =
  "PDF, Word (.docx), Excel (.xlsx, .xls), CSV or TSV, PowerPoint (.pptx), EPUB, HTML, Markdown, plain text or an image (PNG, JPEG, TIFF, WebP)";

function rejectionMessage(rejection: FileRejection): string {
  const code = rejection.errors[0]?.code;
  if (code === "file-invalid-type") return `This file type is not supported. Use ${SUPPORTED_FORMATS}.`;
  return rejection.errors[0]?.message ?? "This file cannot be uploaded.";
}

const ACCEPTED_EXTENSIONS = new Set(Object.values(ACCEPTED_TYPES).flat());

/** A picked folder's files: the supported ones, the others as rejections; hidden files (".DS_Store") are left out. */
export function splitFolderFiles(files: File[]): { accepted: File[]; rejected: { file: File; message: string }[] } {
  const accepted: File[] = [];
  const rejected: { file: File; message: string }[] = [];
  for (const file of files) {
    const path = file.webkitRelativePath || file.name;
    if (path.split("/").some((part) => part.startsWith("."))) continue;
    const extension = file.name.includes(".") ? `.${file.name.split(".").pop()?.toLowerCase()}` : "";
    if (ACCEPTED_EXTENSIONS.has(extension)) accepted.push(file);
    else rejected.push({ file, message: `This file type is not supported. Use ${SUPPORTED_FORMATS}.` });
  }
  return { accepted, rejected };
}

type UploadDropzoneProps = {
  onFiles: (files: File[]) => void;
  onRejected: (rejected: { file: File; message: string }[]) => void;
};

/** Drop area for many files plus a regular "Choose files" button (keyboard friendly). */
export function UploadDropzone({ onFiles, onRejected }: UploadDropzoneProps) {
  const folderInput = useRef<HTMLInputElement>(null);
  const onFolderPicked = (event: ChangeEvent<HTMLInputElement>) => {
    const { accepted, rejected } = splitFolderFiles([...(event.target.files ?? [])]);
    onFiles(accepted);
    onRejected(rejected);
    event.target.value = "";
  };
  const { getRootProps, getInputProps, isDragActive, open } = useDropzone({
    accept: ACCEPTED_TYPES,
    multiple: true,
    noClick: true,
    noKeyboard: true,
    onDrop: (accepted, rejections) => {
      onFiles(accepted);
      onRejected(rejections.map((rejection) => ({ file: rejection.file, message: rejectionMessage(rejection) })));
    },
  });

  return (
    <section
      aria-label="Upload documents"
      {...getRootProps({
        className: `rounded-lg border-2 border-dashed p-6 text-center transition-colors ${
          isDragActive ? "border-blue-600 bg-blue-50" : "border-slate-300 bg-white"
        }`,
      })}
    >
      <input {...getInputProps({ "aria-label": "Files to upload", id: "upload-input" })} />
      <svg aria-hidden="true" viewBox="0 0 24 24" className="mx-auto h-10 w-10 text-slate-400" fill="none" stroke="currentColor" strokeWidth="1.5">
        <path strokeLinecap="round" strokeLinejoin="round" d="M12 16V4m0 0-4 4m4-4 4 4M4 16v2a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-2" />
      </svg>
      <p className="mt-2 text-sm text-slate-700">
        {isDragActive ? "Drop the files to upload them" : "Drag and drop files or a folder here, or"}
      </p>
      <div className="mt-3 flex flex-wrap justify-center gap-2">
        <button type="button" className="btn-primary" onClick={open}>
          Choose files
        </button>
        <button type="button" className="btn-secondary" onClick={() => folderInput.current?.click()}>
          Choose a folder
        </button>
      </div>
      <input
        ref={(input) => {
          folderInput.current = input;
          input?.setAttribute("webkitdirectory", "");
        }}
        type="file"
        multiple
        hidden
        aria-label="Folder to upload"
        data-testid="folder-input"
        onChange={onFolderPicked}
      />
      <p className="mt-2 text-xs text-slate-600">
        {SUPPORTED_FORMATS}. Several at once is fine; a folder keeps its subfolders, which you can browse in the library.
      </p>
    </section>
  );
}
