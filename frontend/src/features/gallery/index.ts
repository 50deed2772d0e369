export { GalleryPage } from './components/GalleryPage';
