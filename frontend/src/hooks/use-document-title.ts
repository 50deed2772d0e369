import { useEffect } from 'react';

export const APP_NAME = 'Little Shop';

/** Sets the document title to "<title> · Shop" while the calling page is shown. */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · ${APP_NAME}` : APP_NAME;
  }, [title]);
}
