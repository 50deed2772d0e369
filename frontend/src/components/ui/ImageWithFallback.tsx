import { type ReactNode, useState } from 'react';
import { ImageIcon } from './icons';

interface ImageWithFallbackProps {
  src: string;
  alt: string;
  className?: string;
  /** Classes of the placeholder shown when the image cannot be loaded. */
  fallbackClassName?: string;
  /** Text shown in the placeholder (decorative: the placeholder is labelled with `alt`). */
  fallbackText?: ReactNode;
  iconSize?: number;
}

/**
 * An image that turns into a labelled placeholder when it fails to load (a broken URL, an
 * offline CDN), so a product never shows the browser's broken-image icon.
 */
export function ImageWithFallback({
  src,
  alt,
  className,
  fallbackClassName = '',
  fallbackText = 'No image',
  iconSize = 32,
}: ImageWithFallbackProps) {
  // Remember which src failed, so a new src gets a fresh try without an effect.
  const [failedSrc, setFailedSrc] = useState<string | null>(null);
  if (failedSrc === src || src === '') {
    return (
      <div
        role="img"
        aria-label={alt}
        className={`image-fallback d-flex flex-column align-items-center justify-content-center gap-1 text-body-secondary bg-body-secondary ${fallbackClassName}`}
      >
        <ImageIcon size={iconSize} />
        {fallbackText ? <span className="small" aria-hidden="true">{fallbackText}</span> : null}
      </div>
    );
  }
  return (
    <img
      src={src}
      alt={alt}
      className={className}
      loading="lazy"
      decoding="async"
      referrerPolicy="no-referrer"
      onError={() => setFailedSrc(src)}
    />
  );
}
