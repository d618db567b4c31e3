"use client";

import Link from "next/link";
import { useRef, useState, type FormEvent } from "react";
import { ShareDialog } from "@/components/sharing/share-dialog";
import { personName, RoleBadge } from "@/components/sharing/role-badge";
import { ErrorAlert } from "@/components/ui/alert";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { FormActions } from "@/components/ui/form-actions";
import { Modal } from "@/components/ui/modal";
import { PageLoading } from "@/components/ui/spinner";
import { TextField } from "@/components/ui/text-field";
import { errorMessage } from "@/lib/api";
import type { CollectionOut } from "@/lib/api/teams-contract";
import { pluralize } from "@/lib/format";
import { DEFAULT_FILTERS, isFiltered } from "@/lib/library/api";
import { useCollectionDocumentChanges, useCollections, useDeleteCollection, useUpdateCollection } from "@/hooks/use-collections";
import { useLibraryFilters } from "@/hooks/use-library";
import { useUploads } from "@/hooks/use-uploads";
import { AddDocumentsDialog } from "./add-documents-dialog";
import { LibraryList, NoMatch } from "./library-list";
import { LibraryToolbar } from "./library-toolbar";
import { UploadDropzone } from "./upload-dropzone";
import { UploadList } from "./upload-list";

/** Whether a role may add, remove and upload documents (editor and owner). */
export const canEdit = (collection: Pick<CollectionOut, "my_role">) => collection.my_role !== "viewer";

type DialogProps = { collection: CollectionOut; open: boolean; onClose: () => void };
type FormProps = { collection: CollectionOut; onClose: () => void };

// The forms live inside the Modal, which renders its content only while open: each opening starts afresh.
function EditCollectionForm({ collection, onClose }: FormProps) {
  const update = useUpdateCollection();
  const [name, setName] = useState(collection.name);
  const [description, setDescription] = useState(collection.description ?? "");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return;
    update.mutate({ id: collection.id, name: name.trim(), description: description.trim() || null }, { onSuccess: onClose });
  };
  return (
      <form onSubmit={submit} className="space-y-3" noValidate>
        {update.isError ? <ErrorAlert>{errorMessage(update.error)}</ErrorAlert> : null}
        <TextField id="collection-name" label="Name" autoComplete="off" maxLength={200} value={name} onChange={(event) => setName(event.target.value)} />
        <TextField
          id="collection-description"
          label="Description"
          hint="Optional: what belongs in it."
          autoComplete="off"
          maxLength={2000}
          value={description}
          onChange={(event) => setDescription(event.target.value)}
        />
        <FormActions onCancel={onClose} submitLabel="Save" busyLabel="Saving…" busy={update.isPending} disabled={!name.trim()} />
      </form>
  );
}

function EditCollectionDialog({ collection, open, onClose }: DialogProps) {
  return (
    <Modal open={open} title="Rename collection" onClose={onClose}>
      <EditCollectionForm collection={collection} onClose={onClose} />
    </Modal>
  );
}

function TransferForm({ collection, onClose }: FormProps) {
  const update = useUpdateCollection();
  const [email, setEmail] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!email.trim()) return;
    update.mutate({ id: collection.id, owner_email: email.trim() }, { onSuccess: onClose });
  };
  return (
      <form onSubmit={submit} className="space-y-3" noValidate>
        {update.isError ? <ErrorAlert>{errorMessage(update.error)}</ErrorAlert> : null}
        <TextField
          id="transfer-email"
          label="Email of the new owner"
          type="email"
          autoComplete="off"
          value={email}
          onChange={(event) => setEmail(event.target.value)}
        />
        <FormActions
          onCancel={onClose}
          submitLabel="Transfer"
          busyLabel="Transferring…"
          busy={update.isPending}
          disabled={!email.trim()}
          danger
        />
      </form>
  );
}

function TransferDialog({ collection, open, onClose }: DialogProps) {
  return (
    <Modal
      open={open}
      title="Transfer ownership"
      description={`The new owner can rename, share, transfer or delete “${collection.name}”. The documents in it stay with their owners.`}
      onClose={onClose}
    >
      <TransferForm collection={collection} onClose={onClose} />
    </Modal>
  );
}

function CollectionContent({ collection, onDeleted }: { collection: CollectionOut; onDeleted: () => void }) {
  const { filters, setFilters, counts, showFolder, clear } = useLibraryFilters({ ...DEFAULT_FILTERS, collectionId: collection.id });
  const changes = useCollectionDocumentChanges(collection.id);
  const uploads = useUploads(collection.id);
  const deleteCollection = useDeleteCollection();
  const [dialog, setDialog] = useState<"share" | "edit" | "transfer" | "add" | null>(null);
  const [pendingDelete, setPendingDelete] = useState<CollectionOut | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const owner = collection.my_role === "owner";
  const editable = canEdit(collection);
  const close = () => setDialog(null);

  return (
    <>
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <div className="flex flex-wrap items-center gap-2">
            <h1 ref={headingRef} tabIndex={-1} className="min-w-0 truncate text-xl font-semibold text-slate-900">
              {collection.name}
            </h1>
            <RoleBadge role={collection.my_role} />
          </div>
          <p className="text-sm text-slate-600">
            {collection.description ? `${collection.description} · ` : ""}
            {pluralize(collection.document_count, "document")}
            {owner ? "" : ` · owned by ${personName(collection.owner)}`}
          </p>
        </div>
        <div className="flex flex-wrap gap-2">
          <Link href={`/chat/?collection=${encodeURIComponent(collection.id)}`} className="btn-secondary">
            Ask about it
          </Link>
          {owner ? (
            <>
              <button type="button" className="btn-primary" onClick={() => setDialog("share")}>
                Share
              </button>
              <button type="button" className="btn-secondary" onClick={() => setDialog("edit")}>
                Rename
              </button>
              <button type="button" className="btn-secondary" onClick={() => setDialog("transfer")}>
                Transfer
              </button>
              <button type="button" className="btn-secondary" onClick={() => setPendingDelete(collection)}>
                Delete<span className="sr-only"> collection {collection.name}</span>
              </button>
            </>
          ) : null}
        </div>
      </div>

      {editable ? (
        <>
          <UploadDropzone onFiles={uploads.addFiles} onRejected={uploads.addRejected} />
          <UploadList items={uploads.items} onCancel={uploads.cancel} onDismiss={uploads.dismiss} onClearFinished={uploads.clearFinished} />
        </>
      ) : (
        <p className="text-sm text-slate-700">You can search and chat with these documents; only editors add or remove them.</p>
      )}

      <LibraryToolbar filters={filters} counts={counts.data} onChange={setFilters} />
      <LibraryList
        // Other filters, another list: the selection and the scroll position start afresh.
        key={JSON.stringify(filters)}
        filters={filters}
        counts={counts.data}
        onFolder={showFolder}
        heading="Documents in this collection"
        canChange={editable}
        onRemoveFromCollection={editable ? (document) => changes.remove.mutateAsync([document.id]) : undefined}
        actions={
          editable ? (
            <button type="button" className="btn-secondary" onClick={() => setDialog("add")}>
              Add documents
            </button>
          ) : null
        }
        empty={
          isFiltered(filters) ? (
            <NoMatch onClear={clear} />
          ) : (
            <div className="card p-6 text-center text-sm text-slate-700" data-testid="collection-empty">
              {editable ? "No documents yet: upload some above, or add documents from your library." : "No documents in this collection yet."}
            </div>
          )
        }
      />

      {owner ? <ShareDialog collection={collection} open={dialog === "share"} onClose={close} /> : null}
      {owner ? <EditCollectionDialog collection={collection} open={dialog === "edit"} onClose={close} /> : null}
      {owner ? <TransferDialog collection={collection} open={dialog === "transfer"} onClose={close} /> : null}
      {editable ? (
        <AddDocumentsDialog
          open={dialog === "add"}
          onClose={close}
          collectionId={collection.id}
          onAdd={(documentIds) => changes.add.mutateAsync(documentIds)}
        />
      ) : null}
      <ConfirmDialog
        subject={pendingDelete}
        title="Delete this collection?"
        confirmLabel="Delete collection"
        onConfirm={async (item) => {
          await deleteCollection.mutateAsync(item.id);
          onDeleted();
        }}
        onClose={() => setPendingDelete(null)}
        fallbackFocus={headingRef}
      >
        {(item) => (
          <p>
            <strong className="break-all">{item.name}</strong> is deleted and no longer shared with anyone. The documents in it stay
            with their owners.
          </p>
        )}
      </ConfirmDialog>
    </>
  );
}

/** One collection: its documents, uploads into it, and (for its owner) sharing and settings. */
export function CollectionView({ collectionId, onGone }: { collectionId: string; onGone: () => void }) {
  const collections = useCollections();
  if (collections.isPending) return <PageLoading label="Loading the collection…" />;
  if (collections.isError) return <ErrorAlert>{errorMessage(collections.error)}</ErrorAlert>;
  const collection = collections.data.find((item) => item.id === collectionId);
  if (!collection) {
    return (
      <ErrorAlert>
        This collection does not exist or is no longer shared with you.{" "}
        <Link href="/library/" className="underline">
          Back to all documents
        </Link>
      </ErrorAlert>
    );
  }
  return <CollectionContent collection={collection} onDeleted={onGone} />;
}
