import { type ChangeEvent, type FocusEvent, type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { Link, useLocation } from 'react-router';
import { DismissibleAlert } from '@/components/ui/DismissibleAlert';
import { ImageWithFallback } from '@/components/ui/ImageWithFallback';
import { ButtonSpinner } from '@/components/ui/Spinner';
import { TextField } from '@/components/ui/TextField';
import { useFocusRequest } from '@/hooks/use-focus-request';
import { useSessionEnded } from '@/hooks/use-session-ended';
import { readDraft, removeDraft, saveDraft } from '@/lib/drafts';
import { isSignInRequired } from '@/lib/session';
import { isProductInput, type ProductInput } from '../api/products';
import { mapSaveError } from '../save-errors';
import {
  charCount,
  isValidImage,
  normalizeProduct,
  PRODUCT_FIELDS,
  type ProductErrors,
  type ProductField,
  TITLE_MAX,
  trimLikeServer,
  validateProduct,
} from '../validation';

interface ProductFormProps {
  initialValues?: ProductInput;
  submitLabel: string;
  savingLabel?: string;
  cancelTo: string;
  /** Saves the values (already trimmed); rejects with an ApiError to show its errors. */
  onSubmit: (values: ProductInput) => Promise<void>;
}

/**
 * The create/edit form: labelled fields, the server's rules checked as you go (after a
 * field is left or the form is submitted), the server's own 400 field errors next to the
 * same fields, other errors at the top (see save-errors.ts), and the submit button
 * disabled while saving. When the save is refused because the admin's session ended (401),
 * what they typed is kept (lib/drafts, by page) and they are sent to sign in; back on this
 * page, the form shows it again and says why.
 */
export function ProductForm({
  initialValues = { title: '', image: '' },
  submitLabel,
  savingLabel = 'Saving…',
  cancelTo,
  onSubmit,
}: ProductFormProps) {
  const id = useId();
  const { pathname: draftKey } = useLocation();
  const sessionEnded = useSessionEnded();
  const [draft] = useState(() => readDraft(draftKey, isProductInput));
  const [restored, setRestored] = useState(draft !== null);
  const [values, setValues] = useState<ProductInput>(draft ?? initialValues);
  // Shown once: the form holds it now.
  useEffect(() => removeDraft(draftKey), [draftKey]);
  const [touched, setTouched] = useState<Record<ProductField, boolean>>({ title: false, image: false });
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<ProductErrors>({});
  const [topErrors, setTopErrors] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const titleRef = useRef<HTMLInputElement>(null);
  const imageRef = useRef<HTMLInputElement>(null);
  const topErrorRef = useRef<HTMLDivElement>(null);
  // After a failed save, where to move focus once the messages are rendered.
  const requestFocus = useFocusRequest<ProductField | 'top'>((target) =>
    target === 'top' ? topErrorRef.current : target === 'title' ? titleRef.current : imageRef.current,
  );

  const clientErrors = validateProduct(values);
  const errorFor = (field: ProductField): string | undefined =>
    ((touched[field] || submitted) && clientErrors[field]) || serverErrors[field];

  function handleChange(field: ProductField, value: string) {
    setValues((v) => ({ ...v, [field]: value }));
    if (serverErrors[field]) setServerErrors((e) => ({ ...e, [field]: undefined }));
  }

  // A field's own errors show once the person moves on to another field, or submits. Not
  // when focus goes to a button or nowhere: a message appearing then would push the button
  // away between mouse down and up, and the click would be lost.
  function handleBlur(field: ProductField, next: EventTarget | null) {
    if (next instanceof HTMLInputElement || next instanceof HTMLTextAreaElement) {
      setTouched((t) => ({ ...t, [field]: true }));
    }
  }

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (saving) return;
    setSubmitted(true);
    setTopErrors([]);
    const firstInvalid = PRODUCT_FIELDS.find((f) => clientErrors[f]);
    if (firstInvalid) {
      (firstInvalid === 'title' ? titleRef : imageRef).current?.focus();
      return;
    }
    setSaving(true);
    setServerErrors({});
    try {
      await onSubmit(normalizeProduct(values));
      // The page navigates away on success; nothing else to do here.
    } catch (error) {
      if (isSignInRequired(error)) {
        saveDraft(draftKey, values);
        sessionEnded();
        return;
      }
      const { fields, top, focus } = mapSaveError(error);
      setServerErrors(fields);
      setTopErrors(top);
      setSaving(false);
      if (focus) requestFocus(focus);
    }
  }

  // What both inputs take from the form's state.
  const fieldProps = (field: ProductField) => ({
    id: `${id}-${field}`,
    name: field,
    value: values[field],
    onChange: (e: ChangeEvent<HTMLInputElement>) => handleChange(field, e.target.value),
    onBlur: (e: FocusEvent<HTMLInputElement>) => handleBlur(field, e.relatedTarget),
    required: true,
    error: errorFor(field),
  });

  const titleLength = charCount(trimLikeServer(values.title));
  const previewSrc = trimLikeServer(values.image);
  const canPreview = previewSrc !== '' && isValidImage(previewSrc);

  return (
    <form noValidate onSubmit={(e) => void handleSubmit(e)} aria-busy={saving}>
      {restored ? (
        <DismissibleAlert variant="warning" role="status" onDismiss={() => setRestored(false)}>
          Your session ended before this was saved. What you typed is back: check it and save again.
        </DismissibleAlert>
      ) : null}
      {topErrors.length > 0 ? (
        <div ref={topErrorRef} tabIndex={-1} className="alert alert-danger" role="alert">
          <p className="fw-semibold mb-1">The product was not saved.</p>
          {topErrors.length === 1 ? (
            <p className="mb-0">{topErrors[0]}</p>
          ) : (
            <ul className="mb-0">
              {topErrors.map((message) => (
                <li key={message}>{message}</li>
              ))}
            </ul>
          )}
        </div>
      ) : null}

      <div className="row g-4">
        <div className="col-12 col-md-7">
          <TextField
            ref={titleRef}
            {...fieldProps('title')}
            className="mb-3"
            label="Title"
            helpClassName="form-text d-flex justify-content-between gap-2"
            help={
              <>
                <span>What shoppers see on the card.</span>
                <span className={titleLength > TITLE_MAX ? 'text-danger fw-semibold' : undefined}>
                  {titleLength}/{TITLE_MAX}
                </span>
              </>
            }
          />

          <TextField
            ref={imageRef}
            {...fieldProps('image')}
            className="mb-4"
            label="Image URL"
            inputMode="url"
            autoCapitalize="off"
            spellCheck={false}
            placeholder="https://example.com/mug.png"
            help={
              <>
                An <code>http://</code> or <code>https://</code> address, or a path on this site starting with{' '}
                <code>/</code>.
              </>
            }
          />

          <div className="d-flex flex-wrap gap-2">
            <button type="submit" className="btn btn-primary" disabled={saving}>
              {saving ? (
                <>
                  <ButtonSpinner />
                  {savingLabel}
                </>
              ) : (
                submitLabel
              )}
            </button>
            <Link to={cancelTo} className="btn btn-outline-secondary">
              Cancel
            </Link>
          </div>
        </div>

        <div className="col-12 col-md-5">
          <figure className="card mb-0 image-preview">
            <div className="ratio ratio-4x3 card-img-top overflow-hidden bg-body-secondary">
              {canPreview ? (
                <ImageWithFallback
                  src={previewSrc}
                  alt={`Preview of the image for ${trimLikeServer(values.title) || 'this product'}`}
                  className="object-fit-cover"
                  fallbackText="This image could not be loaded"
                />
              ) : (
                <div className="d-flex align-items-center justify-content-center text-body-secondary small p-3 text-center">
                  Enter a valid image address to see a preview.
                </div>
              )}
            </div>
            <figcaption className="card-body small text-body-secondary">Image preview</figcaption>
          </figure>
        </div>
      </div>
    </form>
  );
}
